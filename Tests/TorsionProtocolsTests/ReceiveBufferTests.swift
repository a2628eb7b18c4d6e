import Testing
@testable import TorsionProtocols

@Suite("ReceiveBuffer and LineSplitter")
struct ReceiveBufferTests {
    @Test("compact keeps only the unread bytes")
    func compactReleasesConsumed() {
        var buffer = ReceiveBuffer()
        buffer.append([UInt8](repeating: 1, count: 10_000))
        buffer.append([2, 3])
        _ = buffer.read(10_000)
        #expect(buffer.storedByteCount == 10_002)
        buffer.compact()
        #expect(buffer.storedByteCount == 2)
        #expect(buffer.readAll() == [2, 3])
        #expect(buffer.isEmpty)
    }

    @Test("firstIndex finds a pattern only within the given range")
    func firstIndexRange() {
        var buffer = ReceiveBuffer()
        buffer.append(Array("xxabxab".utf8))
        buffer.skip(1)
        #expect(buffer.firstIndex(of: Array("ab".utf8), from: 0, upTo: 6) == 1)
        #expect(buffer.firstIndex(of: Array("ab".utf8), from: 2, upTo: 6) == 4)
        #expect(buffer.firstIndex(of: Array("ab".utf8), from: 2, upTo: 5) == nil)
        #expect(buffer.firstIndex(of: Array("b".utf8), from: 0, upTo: 100) == 2)
    }

    @Test("a delimiter split across reads is found, and no byte is examined twice")
    func splitDelimiter() {
        var splitter = LineSplitter()
        let claimed = splitter.startDraining(appending: Array("abc\r".utf8))
        #expect(claimed)
        guard case .needMore = splitter.nextLine() else {
            Issue.record("a partial delimiter is not a line")
            return
        }
        let claimedAgain = splitter.startDraining(appending: [10])
        #expect(!claimedAgain, "still draining: the bytes are queued for the running loop")
        guard case .line(let line) = splitter.nextLine() else {
            Issue.record("the completed delimiter ends the line")
            return
        }
        #expect(line == Array("abc".utf8))
        #expect(splitter.examinedByteCount == 4 + 2)
        splitter.finishDraining()
        #expect(splitter.buffer.storedByteCount == 0)
    }

    @Test("a maxLength of Int.max means no limit rather than an overflow")
    func unlimited() {
        var splitter = LineSplitter()
        splitter.maxLength = .max
        _ = splitter.startDraining(appending: Array("long line\r\n".utf8))
        guard case .line(let line) = splitter.nextLine() else {
            Issue.record("the line is found")
            return
        }
        #expect(line == Array("long line".utf8))
    }
}
