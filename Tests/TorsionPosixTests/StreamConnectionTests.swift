import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Stream connections (TCP and UNIX) on every backend")
struct StreamConnectionTests {
    @Test("1 MiB crosses both ways intact, then loseConnection ends both sides once", arguments: backendsAndPairs)
    func megabyteBothWays(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (left, right) = try makeConnections(reactor, kind)
        let size = 1 << 20
        let leftData = patternBytes(size, seed: 1)
        let rightData = patternBytes(size, seed: 2)
        let leftProtocol = RecordingProtocol()
        let rightProtocol = RecordingProtocol()
        var owners: [Failure] = []
        var finished = 0
        for (proto, data) in [(leftProtocol, leftData), (rightProtocol, rightData)] {
            proto.onMade = { $0.transport?.write(data) }
            proto.onData = { proto, _ in
                if proto.received.count == size { proto.transport?.loseConnection() }
            }
            proto.onLost = { _, _ in
                finished += 1
                if finished == 2 { try? reactor.stop() }
            }
        }
        left.start(protocol: leftProtocol) { owners.append($0) }
        right.start(protocol: rightProtocol) { owners.append($0) }
        try runWithWatchdog(reactor)
        #expect(leftProtocol.received == rightData)
        #expect(rightProtocol.received == leftData)
        #expect(leftProtocol.made == 1 && rightProtocol.made == 1)
        #expect(leftProtocol.lost.count == 1 && rightProtocol.lost.count == 1)
        #expect(owners.count == 2)
        expectNoTransportLeaks(reactor)
    }

    @Test("loseConnection sends every queued byte before the close", arguments: backendsAndPairs)
    func loseConnectionFlushes(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeConnections(reactor, kind)
        let size = 3 << 20
        let data = patternBytes(size)
        let writing = RecordingProtocol()
        let reading = RecordingProtocol()
        writing.onMade = {
            $0.transport?.write(data)
            $0.transport?.loseConnection()
            #expect($0.transport?.disconnecting == true)
        }
        reading.onLost = { _, _ in try? reactor.stop() }
        writer.start(protocol: writing) { _ in }
        reader.start(protocol: reading) { _ in }
        try runWithWatchdog(reactor)
        #expect(reading.received.count == size)
        #expect(reading.received == data)
        #expect(lossKind(writing.lost.first) == "done")
        #expect(lossKind(reading.lost.first) == "done")
        #expect(writing.lost.count == 1 && reading.lost.count == 1)
        expectNoTransportLeaks(reactor)
    }
}
