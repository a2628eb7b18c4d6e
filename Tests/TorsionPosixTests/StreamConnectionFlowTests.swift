import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// A pull producer writing `total` chunks to `transport`, one per call.
private final class CountingPullProducer: PullProducer {
    let transport: any Transport
    let total: Int
    var produced = 0
    var stops = 0

    init(_ transport: any Transport, total: Int) {
        self.transport = transport
        self.total = total
    }

    func resumeProducing() {
        guard produced < total else { return }
        produced += 1
        transport.write(patternBytes(1000, seed: produced))
        if produced == total {
            transport.unregisterProducer()
            transport.loseConnection()
        }
    }

    func stopProducing() { stops += 1 }
}

@Suite("Stream connections: vectored writes, producers and flow control")
struct StreamConnectionFlowTests {
    @Test(
        "writeSequence sends many buffers in order, more than IOV_MAX at once, written through",
        arguments: backendsAndPairs)
    func writeSequence(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeConnections(reactor, kind)
        let buffers = (0..<3000).map { patternBytes($0 % 97 + 1, seed: $0) }
        let expected = buffers.flatMap { $0 }
        let writing = RecordingProtocol()
        let reading = RecordingProtocol()
        var bufferedAfterWrite = -1
        writing.onMade = {
            $0.transport?.writeSequence([[], Array("ab".utf8), [], Array("c".utf8)])
            bufferedAfterWrite = writer.bufferedByteCount
            $0.transport?.writeSequence(buffers)
            $0.transport?.loseConnection()
        }
        reading.onLost = { _, _ in try? reactor.stop() }
        writer.start(protocol: writing) { _ in }
        reader.start(protocol: reading) { _ in }
        try runWithWatchdog(reactor)
        // Small writes leave nothing buffered on a readiness engine: the
        // kernel took them at once. On io_uring the batch is in flight, and
        // counted, until its CQE.
        #expect(bufferedAfterWrite == (backend == .io_uring ? 3 : 0))
        #expect(reading.received == Array("abc".utf8) + expected)
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "a streaming producer is paused above 64 KiB buffered, resumed at the low mark, and loseConnection waits for it",
        arguments: backendsAndPairs)
    func streamingProducerWaterMarks(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeConnections(reactor, kind)
        let producer = RecordingPushProducer()
        let writing = RecordingProtocol()
        let reading = RecordingProtocol()
        // The reader does not read until the producer was paused, so the
        // kernel's buffers fill and the transport starts buffering.
        reading.onMade = { $0.transport?.pauseProducing() }
        writer.start(protocol: writing) { _ in }
        reader.start(protocol: reading) { _ in }
        try writer.registerProducer(producer, streaming: true)
        #expect(throws: ProducerAlreadyRegisteredError.self) {
            try writer.registerProducer(RecordingPushProducer(), streaming: true)
        }
        let chunk = patternBytes(4096)
        var written = 0
        // Bounded: loopback buffers hold a few MiB at most.
        while producer.pauses == 0 && written < 256 << 20 {
            let before = writer.bufferedByteCount
            #expect(before <= StreamConnection.highWaterMark)
            writer.write(chunk)
            written += chunk.count
        }
        #expect(producer.pauses == 1)
        #expect(writer.bufferedByteCount > StreamConnection.highWaterMark)
        writer.write(chunk)
        written += chunk.count
        #expect(producer.pauses == 1)

        var bufferedAtResume = -1
        var lostBeforeUnregister = -1
        producer.onResume = {
            bufferedAtResume = writer.bufferedByteCount
            writer.loseConnection()
        }
        reading.onLost = { _, _ in try? reactor.stop() }
        reader.resumeProducing()
        iterate(reactor) { producer.resumes == 1 }
        #expect(bufferedAtResume <= StreamConnection.lowWaterMark)
        // loseConnection waits for the producer: a few turns change nothing.
        for _ in 0..<3 { reactor.iterate(delay: 0) }
        lostBeforeUnregister = writing.lost.count
        writer.unregisterProducer()
        try runWithWatchdog(reactor)
        #expect(lostBeforeUnregister == 0)
        #expect(reading.received.count == written)
        #expect(lossKind(writing.lost.first) == "done")
        #expect(producer.stops == 0)
        expectNoTransportLeaks(reactor)
    }

    @Test("a producer still registered when the connection is lost is told to stop", arguments: backendsAndPairs)
    func producerStoppedAtLoss(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (first, second) = try makeConnections(reactor, kind)
        let producer = RecordingPushProducer()
        let proto = RecordingProtocol()
        proto.onLost = { _, _ in try? reactor.stop() }
        first.start(protocol: proto) { _ in }
        second.start(protocol: RecordingProtocol()) { _ in }
        try first.registerProducer(producer, streaming: true)
        second.loseConnection()
        try runWithWatchdog(reactor)
        #expect(producer.stops == 1)
        // Registering on a lost connection stops the producer at once.
        let late = RecordingPushProducer()
        try first.registerProducer(late, streaming: true)
        #expect(late.stops == 1)
        expectNoTransportLeaks(reactor)
    }

    @Test("a pull producer is asked for data each time the buffer empties", arguments: backendsAndPairs)
    func pullProducer(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeConnections(reactor, kind)
        let reading = RecordingProtocol()
        reading.onLost = { _, _ in try? reactor.stop() }
        writer.start(protocol: RecordingProtocol()) { _ in }
        reader.start(protocol: reading) { _ in }
        let producer = CountingPullProducer(writer, total: 50)
        try writer.registerProducer(producer, streaming: false)
        // The first chunk is asked for at registration, the rest one per turn.
        #expect(producer.produced == 1)
        try runWithWatchdog(reactor)
        #expect(producer.produced == 50)
        #expect(reading.received == (1...50).flatMap { patternBytes(1000, seed: $0) })
        #expect(producer.stops == 0)
        expectNoTransportLeaks(reactor)
    }

    @Test("pauseProducing stops reading and resumeProducing delivers what waited", arguments: backendsAndPairs)
    func pauseAndResumeReading(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeConnections(reactor, kind)
        let reading = RecordingProtocol()
        writer.start(protocol: RecordingProtocol()) { _ in }
        reader.start(protocol: reading) { _ in }
        reader.pauseProducing()
        writer.write(Array("while paused".utf8))
        // Written through at once, or (io_uring) at the send's CQE.
        iterate(reactor) { writer.bufferedByteCount == 0 }
        // The bytes sit in the reader's socket; turns deliver nothing.
        for _ in 0..<5 { reactor.iterate(delay: 0) }
        #expect(reading.received.isEmpty)
        reader.resumeProducing()
        iterate(reactor) { reading.received.count == 12 }
        #expect(String(decoding: reading.received, as: UTF8.self) == "while paused")
        // Pausing again, then the peer closing: nothing is read, not even
        // the end of file, until reading resumes.
        reader.pauseProducing()
        writer.loseConnection()
        for _ in 0..<5 { reactor.iterate(delay: 0) }
        #expect(reading.lost.isEmpty)
        reader.resumeProducing()
        iterate(reactor) { reading.lost.count == 1 }
        #expect(lossKind(reading.lost.first) == "done")
        iterate(reactor) { reactor.liveConnectionCount == 0 }
        expectNoTransportLeaks(reactor)
    }
}

@Suite("StreamWriteBuffer")
struct StreamWriteBufferTests {
    @Test("batches hold at most the asked number of arrays and count bytes until acknowledged")
    func batches() {
        var buffer = StreamWriteBuffer()
        let none = buffer.takeBatch(maximumCount: 2)
        #expect(!none && buffer.isEmpty && buffer.inFlight.isEmpty)
        buffer.append([])
        #expect(buffer.isEmpty)
        buffer.append([1, 2])
        buffer.append([3])
        buffer.append([4, 5, 6])
        #expect(buffer.bufferedBytes == 6)
        let first = buffer.takeBatch(maximumCount: 2)
        #expect(first && buffer.inFlight == [[1, 2], [3]])
        #expect(buffer.isSending)
        // One batch at a time.
        let second = buffer.takeBatch(maximumCount: 2)
        #expect(!second && buffer.inFlight == [[1, 2], [3]])
        buffer.append([7])
        #expect(buffer.bufferedBytes == 7)
        buffer.acknowledgeBatch()
        #expect(buffer.bufferedBytes == 4 && !buffer.isSending && buffer.inFlight.isEmpty)
        let third = buffer.takeBatch(maximumCount: 8)
        #expect(third && buffer.inFlight == [[4, 5, 6], [7]])
        buffer.removeAll()
        #expect(buffer.isEmpty && !buffer.isSending && buffer.inFlight.isEmpty)
    }
}
