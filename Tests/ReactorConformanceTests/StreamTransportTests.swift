import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Stream transports: the connection lifecycle, TCP and UNIX, on every backend")
struct StreamLifecycleTests {
    @Test(
        "connectionLost runs exactly once on each side, not re-entered by a close inside it, and the protocols are released",
        arguments: Backend.available, StreamFamily.allCases)
    func connectionLostOnce(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            weak var serverProtocol: RecordingProtocol?
            weak var clientProtocol: RecordingProtocol?
            var serverLost: [Failure] = []
            var clientLost: [Failure] = []
            var disconnectingAfterLose = false
            let bothLost = Countdown(2) { scenario.finish() }
            func closeAgain(_ proto: RecordingProtocol) {
                // Closing again from inside connectionLost must not call it again.
                proto.transport?.loseConnection()
                proto.transport?.abortConnection()
            }
            scenario.server.configure = { proto in
                serverProtocol = proto
                proto.onLost = { proto, reason in
                    serverLost.append(reason)
                    closeAgain(proto)
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                clientProtocol = proto
                proto.onMade = { proto in
                    proto.transport?.loseConnection()
                    disconnectingAfterLose = proto.transport?.disconnecting == true
                }
                proto.onLost = { proto, reason in
                    clientLost.append(reason)
                    #expect(!proto.connected)
                    closeAgain(proto)
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(disconnectingAfterLose)
            #expect(serverLost.count == 1)
            #expect(isDone(serverLost.first), "server: \(serverLost)")
            #expect(clientLost.count == 1)
            #expect(isDone(clientLost.first), "client: \(clientLost)")
            #expect(scenario.client.losses.count == 1)
            #expect(scenario.client.failures.isEmpty)
            expectReleased(serverProtocol, "the server protocol")
            expectReleased(clientProtocol, "the client protocol")
        }
    }

    @Test(
        "writes after the connection was lost are silently ignored",
        arguments: Backend.available, StreamFamily.allCases)
    func writesAfterDisconnect(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var serverReceived: [UInt8] = []
            var lostCounts = (server: 0, client: 0)
            var keptTransport: (any Transport)?
            let bothLost = Countdown(2) {
                // A turn later, with the transport still referenced: still nothing.
                reactor.callLater(0) {
                    keptTransport?.write(Array("late".utf8))
                    keptTransport?.writeSequence([Array("later".utf8)])
                    keptTransport = nil
                    scenario.finish()
                }
            }
            scenario.server.configure = { proto in
                proto.onLost = { proto, _ in
                    lostCounts.server += 1
                    serverReceived = proto.received
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onMade = { proto in
                    proto.transport?.write(Array("hello".utf8))
                    proto.transport?.loseConnection()
                }
                proto.onLost = { proto, _ in
                    lostCounts.client += 1
                    proto.transport?.write(Array("after".utf8))
                    proto.transport?.writeSequence([Array("lost".utf8)])
                    keptTransport = proto.transport
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(serverReceived == Array("hello".utf8))
            #expect(lostCounts.server == 1 && lostCounts.client == 1)
        }
    }

    @Test(
        "loseConnection flushes 1 MiB of pending writes before closing with ConnectionDone",
        arguments: Backend.available, StreamFamily.allCases)
    func loseConnectionFlushes(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            let payload = patternBytes(1 << 20, seed: 7)
            var clientReceived: [UInt8] = []
            var clientLost: [Failure] = []
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    let chunks = stride(from: 0, to: payload.count, by: 1 << 16).map {
                        Array(payload[$0..<min($0 + (1 << 16), payload.count)])
                    }
                    proto.transport?.writeSequence(Array(chunks.dropLast()))
                    proto.transport?.write(chunks.last ?? [])
                    proto.transport?.loseConnection()
                }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            scenario.client.configure = { proto in
                proto.onLost = { proto, reason in
                    clientReceived = proto.received
                    clientLost.append(reason)
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(clientReceived.count == payload.count)
            #expect(clientReceived == payload)
            #expect(clientLost.count == 1 && isDone(clientLost.first), "\(clientLost)")
        }
    }

    @Test(
        "abortConnection drops queued bytes at once: ConnectionAborted once, idempotent, the peer sees the loss",
        arguments: Backend.available, StreamFamily.allCases)
    func abortConnection(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            // More than any socket buffer pair holds, so bytes are still queued.
            let size = 8 << 20
            var serverLost: [Failure] = []
            var clientLost: [Failure] = []
            var clientReceived = 0
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                // Once the client has said hello, so its connection is
                // established on both ends before the reset arrives.
                proto.onData = { proto, _ in
                    proto.transport?.write([UInt8](repeating: 0x61, count: size))
                    proto.transport?.abortConnection()
                    proto.transport?.abortConnection()
                    proto.transport?.loseConnection()
                }
                proto.onLost = { proto, reason in
                    serverLost.append(reason)
                    proto.transport?.abortConnection()
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onMade = { proto in proto.transport?.write(Array("hello".utf8)) }
                proto.onLost = { proto, reason in
                    clientLost.append(reason)
                    clientReceived = proto.received.count
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(serverLost.count == 1)
            #expect(serverLost.first?.error is ConnectionAborted, "\(serverLost)")
            #expect(clientLost.count == 1)
            #expect(clientReceived < size)
            if family == .tcp {
                // SO_LINGER 0: a reset, not an orderly close.
                #expect(clientLost.first?.error is ConnectionLost, "\(clientLost)")
            } else {
                #expect(isClosed(clientLost.first), "\(clientLost)")
            }
        }
    }

    @Test(
        "writing to a peer that went away loses the connection once, without SIGPIPE killing the process",
        arguments: Backend.available, StreamFamily.allCases)
    func writeToVanishedPeer(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var serverLost: [Failure] = []
            var writesAfterPeerLeft = 0
            var clientGone = false
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                // Writes every turn until the loss: once the peer is gone,
                // the timer's write comes before the wait that would see EOF.
                func pump() {
                    guard proto.connected else { return }
                    if clientGone { writesAfterPeerLeft += 1 }
                    proto.transport?.write(patternBytes(1 << 10))
                    reactor.callLater(0, pump)
                }
                proto.onMade = { _ in pump() }
                proto.onLost = { _, reason in
                    serverLost.append(reason)
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onData = { proto, _ in
                    // The socket is closed at once; the loss is reported later.
                    proto.transport?.abortConnection()
                    clientGone = true
                }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            try scenario.run()
            #expect(serverLost.count == 1 && isClosed(serverLost.first), "\(serverLost)")
            #expect(writesAfterPeerLeft >= 1)
        }
    }

    @Test(
        "buildProtocol returning nil closes the accepted connection and the port keeps accepting",
        arguments: Backend.available, StreamFamily.allCases)
    func buildProtocolNil(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var refused = true
            scenario.server.make = {
                defer { refused = false }
                return refused ? nil : RecordingProtocol()
            }
            let outcome = try scenario.runFirstClosedSecondServed()
            #expect(outcome.firstLost.count == 1 && isClosed(outcome.firstLost.first), "\(outcome.firstLost)")
            #expect(outcome.firstReceived.isEmpty)
            #expect(scenario.server.peers.count == 2)
            #expect(scenario.server.builtCount == 1)
            #expect(outcome.secondReceived == Array("served".utf8))
        }
    }
}

@Suite("Stream transports: ports, factories and shutdown, TCP and UNIX, on every backend")
struct StreamPortLifecycleTests {
    @Test(
        "a port starts its factory once; stopListening's Deferred fires after stopFactory; connections outlive the port",
        arguments: Backend.available, StreamFamily.allCases)
    func factoryStartStop(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var stopsWhenFired: Int?
            var clientReceived: [UInt8] = []
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    // The port closes first; this connection goes on.
                    scenario.port?.stopListening().addBoth { (_: Result<Void, Failure>) in
                        stopsWhenFired = scenario.server.stopCount
                        proto.transport?.write(Array("after stop".utf8))
                        proto.transport?.loseConnection()
                    }
                }
            }
            scenario.client.configure = { proto in
                proto.onLost = { proto, _ in
                    clientReceived = proto.received
                    try? reactor.stop()
                }
            }
            #expect(scenario.server.startCount == 0)
            try scenario.run()
            #expect(scenario.server.startCount == 1)
            #expect(scenario.server.stopCount == 1)
            #expect(stopsWhenFired == 1)
            #expect(clientReceived == Array("after stop".utf8))
        }
    }

    @Test(
        "shutdown closes what is left: open connections hear connectionLost once, the port stops its factory",
        arguments: Backend.available, StreamFamily.allCases)
    func shutdownClosesEverything(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend, leavesWorkForShutdown: true) { reactor in
            let scenario = StreamScenario(reactor, family)
            var serverLost: [Failure] = []
            var clientLost: [Failure] = []
            weak var serverProtocol: RecordingProtocol?
            weak var clientProtocol: RecordingProtocol?
            let bothMade = Countdown(2) { try? reactor.stop() }
            scenario.server.configure = { proto in
                serverProtocol = proto
                proto.onMade = { _ in bothMade.tick() }
                proto.onLost = { _, reason in serverLost.append(reason) }
            }
            scenario.client.configure = { proto in
                clientProtocol = proto
                proto.onMade = { _ in bothMade.tick() }
                proto.onLost = { _, reason in clientLost.append(reason) }
            }
            try scenario.run()
            #expect(serverLost.count == 1 && isClosed(serverLost.first), "\(serverLost)")
            #expect(clientLost.count == 1 && isClosed(clientLost.first), "\(clientLost)")
            #expect(scenario.server.stopCount == 1)
            #expect(scenario.client.losses.count == 1)
            expectReleased(serverProtocol, "the server protocol")
            expectReleased(clientProtocol, "the client protocol")
        }
    }
}

@Suite("Stream transports: half-close, TCP and UNIX, on every backend")
struct StreamHalfCloseTests {
    enum Side: String, CaseIterable, CustomStringConvertible, Sendable {
        case client, server
        var description: String { rawValue }
    }

    /// `closer` writes "ping" and closes its writing half; the other side
    /// sees the data, then readConnectionLost, and answers "pong" over the
    /// half still open before closing.
    func halfClose(_ reactor: Reactor, _ family: StreamFamily, closer: Side) throws {
        let scenario = StreamScenario(reactor, family)
        var closerProtocol: HalfCloseRecordingProtocol?
        var answererProtocol: HalfCloseRecordingProtocol?
        var lostReasons: [Side: [Failure]] = [:]
        let bothLost = Countdown(2) { scenario.finish() }
        func configure(_ proto: RecordingProtocol, as side: Side) {
            guard let proto = proto as? HalfCloseRecordingProtocol else {
                Issue.record("not a half-closeable protocol")
                return
            }
            if side == closer {
                closerProtocol = proto
                proto.onMade = { proto in
                    proto.transport?.write(Array("ping".utf8))
                    proto.halfCloseable?.loseWriteConnection()
                    // The writing half is closed: ignored.
                    proto.transport?.write(Array("ignored".utf8))
                }
            } else {
                answererProtocol = proto
                proto.onReadLost = { proto in
                    #expect(proto.received == Array("ping".utf8))
                    proto.transport?.write(Array("pong".utf8))
                    proto.transport?.loseConnection()
                }
            }
            proto.onLost = { _, reason in
                lostReasons[side, default: []].append(reason)
                bothLost.tick()
            }
        }
        scenario.server.make = { HalfCloseRecordingProtocol() }
        scenario.client.make = { HalfCloseRecordingProtocol() }
        scenario.server.configure = { configure($0, as: .server) }
        scenario.client.configure = { configure($0, as: .client) }
        try scenario.run()
        let closing = try #require(closerProtocol)
        let answering = try #require(answererProtocol)
        #expect(closing.writeLostCount == 1)
        #expect(closing.received == Array("pong".utf8))
        #expect(answering.readLostCount == 1)
        #expect(answering.writeLostCount == 0)
        #expect(lostReasons[.client]?.count == 1 && lostReasons[.server]?.count == 1, "\(lostReasons)")
        #expect(isDone(lostReasons[.client]?.first) && isDone(lostReasons[.server]?.first), "\(lostReasons)")
    }

    @Test(
        "loseWriteConnection from the client: writeConnectionLost here, readConnectionLost there, the answer still arrives",
        arguments: Backend.available, StreamFamily.allCases)
    func clientHalfCloses(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in try halfClose(reactor, family, closer: .client) }
    }

    @Test(
        "loseWriteConnection from the server: writeConnectionLost here, readConnectionLost there, the answer still arrives",
        arguments: Backend.available, StreamFamily.allCases)
    func serverHalfCloses(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in try halfClose(reactor, family, closer: .server) }
    }

    @Test(
        "without HalfCloseableProtocol, the peer's EOF closes the connection with ConnectionDone",
        arguments: Backend.available, StreamFamily.allCases)
    func eofClosesPlainProtocol(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var serverLost: [Failure] = []
            var serverReceived: [UInt8] = []
            var clientLost: [Failure] = []
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onLost = { proto, reason in
                    serverLost.append(reason)
                    serverReceived = proto.received
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onMade = { proto in
                    proto.transport?.write(Array("bye".utf8))
                    proto.halfCloseable?.loseWriteConnection()
                }
                proto.onLost = { _, reason in
                    clientLost.append(reason)
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(serverReceived == Array("bye".utf8))
            #expect(serverLost.count == 1 && isDone(serverLost.first), "\(serverLost)")
            #expect(clientLost.count == 1 && isClosed(clientLost.first), "\(clientLost)")
        }
    }
}
