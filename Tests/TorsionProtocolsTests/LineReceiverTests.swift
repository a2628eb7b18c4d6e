import Testing
import TorsionCore
@testable import TorsionProtocols

/// Records everything a LineReceiver delivers; hooks let a test act from
/// inside the callbacks, as real protocols do.
final class LineRecorder: LineReceiver {
    var lines: [[UInt8]] = []
    var raw: [[UInt8]] = []
    var exceeded: [[UInt8]] = []
    var onLine: ((LineRecorder, [UInt8]) -> Void)?
    var onRaw: ((LineRecorder, [UInt8]) -> Void)?
    var closesOnExceeded = true

    override func lineReceived(_ line: [UInt8]) {
        lines.append(line)
        onLine?(self, line)
    }

    override func rawDataReceived(_ data: [UInt8]) {
        raw.append(data)
        onRaw?(self, data)
    }

    override func lineLengthExceeded(_ line: [UInt8]) {
        exceeded.append(line)
        if closesOnExceeded { super.lineLengthExceeded(line) }
    }
}

@Suite("LineReceiver")
struct LineReceiverTests {
    static let stream = bytes("hello\r\n\r\nwith \r inside\r\nand \n too\r\nlast\r\npartial")
    static let expected = ["hello", "", "with \r inside", "and \n too", "last"]

    @Test("delivers the same lines whether fed whole, byte by byte or in random pieces", arguments: Chunking.allCases)
    func chunkingIndependence(chunking: Chunking) {
        let receiver = LineRecorder()
        receiver.connectRecording()
        receiver.receive(Self.stream, chunking)
        #expect(strings(receiver.lines) == Self.expected)
        #expect(receiver.bufferedByteCount == "partial".utf8.count)
    }

    @Test("honours a custom multi-byte delimiter whatever the chunking", arguments: Chunking.allCases)
    func customDelimiter(chunking: Chunking) {
        let receiver = LineRecorder()
        receiver.delimiter = bytes("<>")
        receiver.connectRecording()
        receiver.receive(bytes("a<b<>c>d<><><<>"), chunking)
        #expect(strings(receiver.lines) == ["a<b", "c>d", "", "<"])
    }

    @Test("a line of exactly maxLength is accepted, one byte more is refused", arguments: Chunking.allCases)
    func lengthBoundary(chunking: Chunking) {
        let receiver = LineRecorder()
        receiver.maxLength = 10
        let transport = receiver.connectRecording()
        receiver.receive(bytes("0123456789\r\nfirst\r\n0123456789X\r\nlost\r\n"), chunking)
        #expect(strings(receiver.lines) == ["0123456789", "first"])
        #expect(receiver.lineLengthError == LineLengthExceededError(maxLength: 10))
        #expect(receiver.exceeded.count == 1)
        #expect(transport.loseConnectionCount == 1)
    }

    @Test("an endless line never makes the buffer exceed maxLength plus the delimiter")
    func endlessLineBounded() {
        let receiver = LineRecorder()
        receiver.maxLength = 100
        let transport = receiver.connectRecording()
        receiver.receive("ok\r\n")
        var largest = 0
        for _ in 0..<10_000 {
            receiver.dataReceived([UInt8(ascii: "x")])
            largest = max(largest, receiver.bufferedByteCount)
        }
        #expect(largest <= 100 + 2 - 1)
        #expect(strings(receiver.lines) == ["ok"])
        #expect(receiver.exceeded.first?.count == 102)
        #expect(receiver.lineLengthError != nil)
        #expect(transport.loseConnectionCount >= 1)
    }

    @Test("a long line arriving byte by byte is scanned once, not once per byte")
    func noRescan() {
        let receiver = LineRecorder()
        receiver.maxLength = 50_000
        receiver.connectRecording()
        let length = 40_000
        for _ in 0..<length { receiver.dataReceived([UInt8(ascii: "y")]) }
        receiver.receive("\r\n")
        #expect(receiver.lines.map(\.count) == [length])
        // Each byte is examined about once (plus the one held back for a
        // possible delimiter); a rescan per byte would be ~length² / 2.
        #expect(receiver.examinedByteCount <= 2 * (length + 2))
    }

    @Test("after an override of lineLengthExceeded that keeps the connection, parsing goes on")
    func continuesAfterOverride() {
        let receiver = LineRecorder()
        receiver.maxLength = 4
        receiver.closesOnExceeded = false
        let transport = receiver.connectRecording()
        receiver.receive("toolong\r\nok\r\n")
        #expect(strings(receiver.exceeded) == ["toolong\r\nok\r\n"])
        receiver.receive("next\r\n")
        #expect(strings(receiver.lines) == ["next"])
        #expect(transport.loseConnectionCount == 0)
    }

    @Test("setRawMode sends the rest of the read to rawDataReceived, setLineMode(extra:) parses leftovers")
    func rawModeSwitching() {
        let receiver = LineRecorder()
        var body: [UInt8] = []
        receiver.onLine = { receiver, line in
            if line == bytes("BODY") { receiver.setRawMode() }
        }
        receiver.onRaw = { receiver, data in
            // The body is 6 bytes; whatever follows is lines again.
            let needed = 6 - body.count
            body += data.prefix(needed)
            if body.count == 6 { receiver.setLineMode(extra: Array(data.dropFirst(needed))) }
        }
        receiver.connectRecording()
        receiver.receive("HEAD\r\nBODY\r\nab")
        receiver.receive("cdefAFTER\r\nEND\r\n")
        #expect(strings(receiver.lines) == ["HEAD", "BODY", "AFTER", "END"])
        #expect(body == bytes("abcdef"))
        #expect(strings(receiver.raw) == ["ab", "cdefAFTER\r\nEND\r\n"])
        #expect(receiver.lineMode)
    }

    @Test("raw mode delivers every later chunk as it comes")
    func rawModeChunks() {
        let receiver = LineRecorder()
        receiver.connectRecording()
        receiver.setRawMode()
        receiver.receive("a\r\nb")
        receiver.receive("c")
        #expect(strings(receiver.raw) == ["a\r\nb", "c"])
        #expect(receiver.lines.isEmpty)
        #expect(receiver.bufferedByteCount == 0)
    }

    @Test("setLineMode(extra:) outside a callback parses the extra bytes at once")
    func setLineModeExtra() {
        let receiver = LineRecorder()
        receiver.connectRecording()
        receiver.setRawMode()
        receiver.setLineMode(extra: bytes("x\r\ny"))
        #expect(strings(receiver.lines) == ["x"])
        #expect(receiver.bufferedByteCount == 1)
    }

    @Test("clearLineBuffer inside lineReceived returns the rest and stops delivery")
    func clearInsideCallback() {
        let receiver = LineRecorder()
        var cleared: [UInt8] = []
        receiver.onLine = { receiver, line in
            if line == bytes("STOP") { cleared = receiver.clearLineBuffer() }
        }
        receiver.connectRecording()
        receiver.receive("one\r\nSTOP\r\ntwo\r\nthr")
        #expect(strings(receiver.lines) == ["one", "STOP"])
        #expect(cleared == bytes("two\r\nthr"))
        #expect(receiver.bufferedByteCount == 0)
    }

    @Test("clearLineBuffer returns a buffered partial line")
    func clearPartial() {
        let receiver = LineRecorder()
        receiver.connectRecording()
        receiver.receive("abc")
        #expect(receiver.clearLineBuffer() == bytes("abc"))
        receiver.receive("d\r\n")
        #expect(strings(receiver.lines) == ["d"])
    }

    @Test("once the transport is disconnecting, the lines after it in the same read are not delivered")
    func disconnectingStopsParsing() {
        let receiver = LineRecorder()
        receiver.onLine = { receiver, line in
            if line == bytes("QUIT") { receiver.transport?.loseConnection() }
        }
        receiver.connectRecording()
        receiver.receive("a\r\nQUIT\r\nb\r\nc\r\n")
        #expect(strings(receiver.lines) == ["a", "QUIT"])
        receiver.receive("late\r\n")
        #expect(strings(receiver.lines) == ["a", "QUIT"], "reads after the close request are dropped")
        #expect(receiver.clearLineBuffer() == bytes("b\r\nc\r\n"), "the rest of the read stays buffered")
    }

    @Test("while paused lines are buffered, resumeProducing delivers them in order")
    func pauseAndResume() {
        let receiver = LineRecorder()
        receiver.onLine = { receiver, line in
            if line == bytes("pause") { receiver.pauseProducing() }
        }
        let transport = receiver.connectRecording()
        receiver.receive("a\r\npause\r\nb\r\n")
        receiver.receive("c\r\n")
        #expect(strings(receiver.lines) == ["a", "pause"])
        #expect(receiver.paused)
        #expect(transport.pauseCount == 1)
        receiver.resumeProducing()
        #expect(strings(receiver.lines) == ["a", "pause", "b", "c"])
        #expect(transport.resumeCount == 1)
        #expect(receiver.bufferedByteCount == 0)
    }

    @Test("stopProducing stops delivery and the transport")
    func stopProducing() {
        let receiver = LineRecorder()
        let transport = receiver.connectRecording()
        receiver.stopProducing()
        receiver.receive("a\r\n")
        #expect(receiver.lines.isEmpty)
        #expect(transport.stopCount == 1)
    }

    @Test("bytes passed to dataReceived from inside lineReceived are parsed after the pending ones")
    func reentrantData() {
        let receiver = LineRecorder()
        receiver.onLine = { receiver, line in
            if line == bytes("a") { receiver.receive("inner\r\n") }
        }
        receiver.connectRecording()
        receiver.receive("a\r\nb\r\n")
        #expect(strings(receiver.lines) == ["a", "b", "inner"])
    }

    @Test("a delimiter changed from inside lineReceived applies to the bytes already buffered")
    func delimiterChange() {
        let receiver = LineRecorder()
        receiver.onLine = { receiver, _ in receiver.delimiter = [UInt8(ascii: "\n")] }
        receiver.connectRecording()
        receiver.receive("first\r\nsec")
        receiver.receive("ond\nthird\n")
        #expect(strings(receiver.lines) == ["first", "second", "third"])
    }

    @Test("sendLine writes the line and the delimiter in one write")
    func sendLine() {
        let receiver = LineRecorder()
        let transport = receiver.connectRecording()
        receiver.sendLine("hi")
        receiver.delimiter = [UInt8(ascii: "\n")]
        receiver.sendLine(bytes("there"))
        #expect(transport.writes == [bytes("hi\r\n"), bytes("there\n")])
    }
}
