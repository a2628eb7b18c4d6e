import Testing
import TorsionCore

@testable import TorsionPosix

/// A producer that records what its consumer tells it.
final class RecordingProducer: PushProducer, PullProducer {
    var paused = false
    var pauseCount = 0
    var resumeCount = 0
    var stopCount = 0
    var onResume: (RecordingProducer) -> Void = { _ in }

    func pauseProducing() {
        pauseCount += 1
        paused = true
    }

    func resumeProducing() {
        resumeCount += 1
        paused = false
        onResume(self)
    }

    func stopProducing() { stopCount += 1 }
}

@Suite("Stream transports: reading and producer flow control, TCP and UNIX, on every backend")
struct StreamFlowControlTests {
    @Test(
        "pauseProducing stops reading: nothing is delivered until resumeProducing",
        arguments: Backend.available, StreamFamily.allCases)
    func pauseAndResumeReading(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var serverTransport: (any Transport)?
            var receivedWhilePaused: Int?
            var serverReceived: [UInt8] = []
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    proto.transport?.pauseProducing()
                    serverTransport = proto.transport
                    proto.transport?.write(Array("go".utf8))
                }
                proto.onData = { proto, _ in
                    serverReceived = proto.received
                    if proto.received.count == 4 { proto.transport?.loseConnection() }
                }
                proto.onLost = { _, _ in
                    serverTransport = nil
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onData = { proto, _ in
                    // "ping" is in the server's socket buffer once this
                    // write returns (loopback); two turns later a reader
                    // that had not paused would have been handed it.
                    proto.transport?.write(Array("ping".utf8))
                    reactor.callLater(0) {
                        reactor.callLater(0) {
                            receivedWhilePaused = serverReceived.count
                            serverTransport?.resumeProducing()
                        }
                    }
                }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            try scenario.run()
            #expect(receivedWhilePaused == 0)
            #expect(serverReceived == Array("ping".utf8))
        }
    }

    @Test(
        "a streaming producer is paused above the high-water mark and resumed once the buffer drained",
        arguments: Backend.available, StreamFamily.allCases)
    func producerPausedAboveWaterMark(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            let producer = RecordingProducer()
            let chunk = patternBytes(1 << 16)
            // Far more than socket buffers hold; the producer must be paused well before.
            let limit = 64 << 20
            var written = 0
            var pausedWhileWriting = false
            var clientReceived = 0
            var clientLost: [Failure] = []
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    guard let transport = proto.transport else { return }
                    do { try transport.registerProducer(producer, streaming: true) } catch { Issue.record(error) }
                    // The client reads only between turns: the kernel's
                    // buffers fill, then the transport's passes 64 KiB.
                    while !producer.paused && written < limit {
                        transport.write(chunk)
                        written += chunk.count
                    }
                    pausedWhileWriting = producer.paused
                    producer.onResume = { _ in
                        producer.onResume = { _ in }
                        transport.unregisterProducer()
                        transport.loseConnection()
                    }
                }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            scenario.client.configure = { proto in
                proto.onData = { _, data in clientReceived += data.count }
                proto.onLost = { _, reason in
                    clientLost.append(reason)
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(pausedWhileWriting, "not paused after \(written) bytes")
            #expect(producer.pauseCount >= 1)
            #expect(producer.resumeCount >= 1)
            #expect(producer.stopCount == 0)
            #expect(clientReceived == written)
            #expect(clientLost.count == 1 && isDone(clientLost.first), "\(clientLost)")
        }
    }

    @Test(
        "a pull producer is asked for more each time the buffer empties, until it unregisters",
        arguments: Backend.available, StreamFamily.allCases)
    func pullProducer(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            let producer = RecordingProducer()
            let chunks = 32
            var produced = 0
            var clientReceived: [UInt8] = []
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    guard let transport = proto.transport else { return }
                    producer.onResume = { _ in
                        guard produced < chunks else { return }
                        transport.write(patternBytes(1 << 14, seed: UInt8(produced)))
                        produced += 1
                        if produced == chunks {
                            transport.unregisterProducer()
                            transport.loseConnection()
                        }
                    }
                    do { try transport.registerProducer(producer, streaming: false) } catch { Issue.record(error) }
                }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            scenario.client.configure = { proto in
                proto.onLost = { proto, _ in
                    clientReceived = proto.received
                    bothLost.tick()
                }
            }
            try scenario.run()
            producer.onResume = { _ in }
            let expected = (0..<chunks).flatMap { patternBytes(1 << 14, seed: UInt8($0)) }
            #expect(produced == chunks)
            #expect(producer.resumeCount == chunks)
            #expect(clientReceived == expected)
        }
    }

    @Test(
        "loseConnection waits for a registered producer to unregister; a second producer is refused",
        arguments: Backend.available, StreamFamily.allCases)
    func loseConnectionWaitsForProducer(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            let producer = RecordingProducer()
            var unregistered = false
            var lostBeforeUnregister = false
            var secondRefused = false
            var clientReceived: [UInt8] = []
            var clientLost: [Failure] = []
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    guard let transport = proto.transport else { return }
                    do { try transport.registerProducer(producer, streaming: true) } catch { Issue.record(error) }
                    do {
                        try transport.registerProducer(RecordingProducer(), streaming: true)
                    } catch {
                        secondRefused = error is ProducerAlreadyRegisteredError
                    }
                    transport.write(Array("a".utf8))
                    transport.loseConnection()
                    // The producer goes on writing for two more turns.
                    reactor.callLater(0) {
                        transport.write(Array("b".utf8))
                        reactor.callLater(0) {
                            transport.write(Array("c".utf8))
                            unregistered = true
                            transport.unregisterProducer()
                        }
                    }
                }
                proto.onLost = { _, _ in
                    lostBeforeUnregister = !unregistered
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onLost = { proto, reason in
                    clientReceived = proto.received
                    clientLost.append(reason)
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(secondRefused)
            #expect(!lostBeforeUnregister)
            #expect(clientReceived == Array("abc".utf8))
            #expect(clientLost.count == 1 && isDone(clientLost.first), "\(clientLost)")
        }
    }
}
