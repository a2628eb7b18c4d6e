import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Stream connections: closing, aborting, half-closing, losing")
struct StreamConnectionLifecycleTests {
    @Test(
        "abortConnection drops at once, is idempotent and delivers ConnectionAborted once on the next turn",
        arguments: backendsAndPairs)
    func abortConnection(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (aborting, peer) = try makeConnections(reactor, kind)
        let aborter = RecordingProtocol()
        let other = RecordingProtocol()
        var lostDuringAbort = -1
        aborter.onData = { proto, _ in
            // More than any socket takes at once, even io_uring's send,
            // which the kernel may run to the end of a 1 MiB buffer.
            proto.transport?.write([UInt8](repeating: 7, count: 16 << 20))
            proto.transport?.abortConnection()
            proto.transport?.abortConnection()
            proto.transport?.loseConnection()
            lostDuringAbort = proto.lost.count
        }
        // Not re-entered: aborting again from connectionLost does nothing.
        aborter.onLost = { proto, _ in proto.transport?.abortConnection() }
        other.onMade = { $0.transport?.write(Array("go".utf8)) }
        other.onLost = { _, _ in try? reactor.stop() }
        aborting.start(protocol: aborter) { _ in }
        peer.start(protocol: other) { _ in }
        try runWithWatchdog(reactor)
        #expect(lostDuringAbort == 0)
        #expect(aborter.lost.count == 1)
        #expect(lossKind(aborter.lost.first) == "aborted")
        #expect(other.lost.count == 1)
        // TCP's abort is a RST, which the peer's read reports as
        // ECONNRESET; a UNIX socket has no RST and the peer sees EOF.
        #expect(lossKind(other.lost.first) == (kind == .tcp ? "lost" : "done"))
        #expect(other.received.count < 16 << 20)
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "abortConnection during a loseConnection that is still flushing discards the rest and wins",
        arguments: backendsAndPairs)
    func abortWhileFlushing(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeConnections(reactor, kind)
        let writing = RecordingProtocol()
        let reading = RecordingProtocol()
        reading.onLost = { _, _ in try? reactor.stop() }
        writer.start(protocol: writing) { _ in }
        reader.start(protocol: reading) { _ in }
        reader.pauseProducing()
        let size = 16 << 20
        writer.write([UInt8](repeating: 7, count: size))
        writer.loseConnection()
        #expect(writer.bufferedByteCount > 0)
        reactor.iterate(delay: 0)
        #expect(writing.lost.isEmpty)
        writer.abortConnection()
        #expect(writer.bufferedByteCount == 0)
        reader.resumeProducing()
        try runWithWatchdog(reactor)
        #expect(writing.lost.count == 1)
        #expect(lossKind(writing.lost.first) == "aborted")
        #expect(reading.received.count < size)
        expectNoTransportLeaks(reactor)
    }

    @Test("a reset from the peer (ECONNRESET) ends the connection with ConnectionLost", arguments: Backend.available)
    func peerReset(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (client, server) = try makeTCPPair()
        let connection = reactor.makeStreamConnection(
            descriptor: server, host: try Socket.localAddress(server), peer: try Socket.peerAddress(server))
        let proto = RecordingProtocol()
        proto.onData = { _, _ in
            // The peer closes with SO_LINGER 0 after we read: RST.
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(client)
        }
        proto.onLost = { _, _ in try? reactor.stop() }
        connection.start(protocol: proto) { _ in }
        _ = [UInt8]("ping".utf8).withUnsafeBytes { write(client, $0.baseAddress, 4) }
        try runWithWatchdog(reactor)
        #expect(proto.lost.count == 1)
        #expect(lossKind(proto.lost.first) == "lost")
        #expect(proto.lost.first?.errorMessage.contains(String(cString: strerror(ECONNRESET))) == true)
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "a write to a peer that went away ends the connection with ConnectionLost after write returns",
        arguments: Backend.available)
    func writeToVanishedPeer(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (ours, theirs) = try makeSocketPair()
        let unnamed = SocketAddress.unix(UNIXAddress(nil))
        let connection = reactor.makeStreamConnection(descriptor: ours, host: unnamed, peer: unnamed)
        let proto = RecordingProtocol()
        // Not reading, so the peer's close is found by the write (EPIPE).
        connection.pauseProducing()
        connection.start(protocol: proto) { _ in }
        close(theirs)
        connection.write(Array("into the void".utf8))
        #expect(proto.lost.isEmpty)
        // A readiness engine's write finds EPIPE at once; io_uring finds it
        // at the send's CQE, on a later turn.
        if backend != .io_uring { #expect(connection.disconnecting) }
        iterate(reactor) { proto.lost.count == 1 }
        #expect(lossKind(proto.lost.first) == "lost")
        #expect(proto.lost.first?.errorMessage.contains(String(cString: strerror(EPIPE))) == true)
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "half-close both ways: each side hears writeConnectionLost then readConnectionLost, later writes are ignored",
        arguments: backendsAndPairs)
    func halfCloseBothWays(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (first, second) = try makeConnections(reactor, kind)
        let opener = HalfCloseRecordingProtocol()
        let answerer = HalfCloseRecordingProtocol()
        opener.onMade = {
            $0.transport?.write(Array("question".utf8))
            ($0.transport as? any HalfCloseableTransport)?.loseWriteConnection()
            $0.transport?.write(Array("ignored".utf8))
        }
        answerer.onReadLost = {
            // Our reading half is closed, writing still works.
            $0.transport?.write(Array("answer".utf8))
            ($0.transport as? any HalfCloseableTransport)?.loseWriteConnection()
        }
        var lost = 0
        for proto in [opener, answerer] {
            proto.onLost = { _, _ in
                lost += 1
                if lost == 2 { try? reactor.stop() }
            }
        }
        first.start(protocol: opener) { _ in }
        second.start(protocol: answerer) { _ in }
        try runWithWatchdog(reactor)
        #expect(String(decoding: answerer.received, as: UTF8.self) == "question")
        #expect(String(decoding: opener.received, as: UTF8.self) == "answer")
        for proto in [opener, answerer] {
            #expect(proto.writeLost == 1 && proto.readLost == 1)
            #expect(proto.lost.count == 1)
            #expect(lossKind(proto.lost.first) == "done")
        }
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "a protocol that is not half-closeable loses the connection with ConnectionDone at the peer's FIN",
        arguments: backendsAndPairs)
    func endOfFileWithoutHalfClose(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (first, second) = try makeConnections(reactor, kind)
        let closer = HalfCloseRecordingProtocol()
        let plain = RecordingProtocol()
        closer.onMade = { ($0.transport as? any HalfCloseableTransport)?.loseWriteConnection() }
        closer.onLost = { _, _ in try? reactor.stop() }
        plain.onLost = { proto, _ in proto.transport?.write(Array("too late".utf8)) }
        first.start(protocol: closer) { _ in }
        second.start(protocol: plain) { _ in }
        try runWithWatchdog(reactor)
        #expect(lossKind(plain.lost.first) == "done")
        #expect(closer.writeLost == 1)
        #expect(closer.received.isEmpty)
        #expect(closer.lost.count == 1 && plain.lost.count == 1)
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "connectionLost comes once; afterwards writes and closes are no-ops and nobody keeps the protocol",
        arguments: backendsAndPairs)
    func lostOnceAndReleased(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (first, second) = try makeConnections(reactor, kind)
        weak var released: RecordingProtocol?
        var owners = 0
        var afterLoss: [UInt8] = []
        do {
            let leaving = RecordingProtocol()
            let staying = RecordingProtocol()
            released = leaving
            leaving.onMade = { $0.transport?.loseConnection() }
            leaving.onLost = { proto, _ in
                proto.transport?.write(Array("after".utf8))
                proto.transport?.writeSequence([Array("after".utf8)])
                proto.transport?.loseConnection()
                proto.transport?.abortConnection()
                proto.transport?.pauseProducing()
                proto.transport?.resumeProducing()
            }
            staying.onLost = { proto, _ in
                afterLoss = proto.received
                try? reactor.stop()
            }
            first.start(protocol: leaving) { _ in owners += 1 }
            second.start(protocol: staying) { _ in owners += 1 }
            try runWithWatchdog(reactor)
            #expect(leaving.lost.count == 1 && staying.lost.count == 1)
            #expect(leaving.connected == false)
            // The protocol still holds its transport; the transport and
            // the reactor no longer hold the protocol.
            #expect(leaving.transport != nil)
        }
        #expect(released == nil)
        #expect(afterLoss.isEmpty)
        #expect(owners == 2)
        first.write(Array("still ignored".utf8))
        #expect(first.bufferedByteCount == 0)
        expectNoTransportLeaks(reactor)
    }

    @Test("stopping the reactor closes every live connection with ConnectionLost", arguments: backendsAndPairs)
    func shutdownClosesConnections(backend: Backend, kind: PairKind) throws {
        let reactor = try Reactor(backend: backend)
        let (first, second) = try makeConnections(reactor, kind)
        let (third, fourth) = try makeConnections(reactor, kind)
        let protocols = (0..<4).map { _ in RecordingProtocol() }
        // One loss waits for the next turn when the reactor stops: it is
        // delivered during shutdown with its own reason.
        protocols[2].onMade = { $0.transport?.abortConnection() }
        first.start(protocol: protocols[0]) { _ in }
        second.start(protocol: protocols[1]) { _ in }
        third.start(protocol: protocols[2]) { _ in }
        fourth.start(protocol: protocols[3]) { _ in }
        #expect(reactor.ownedDescriptorCount == 3)
        reactor.callWhenRunning { try? reactor.stop() }
        try runWithWatchdog(reactor)
        #expect(protocols.map(\.lost.count) == [1, 1, 1, 1])
        #expect(lossKind(protocols[0].lost.first) == "lost")
        #expect(lossKind(protocols[2].lost.first) == "aborted")
        expectNoTransportLeaks(reactor)
    }

    @Test("TCP: TCP_NODELAY is on by default; tcpNoDelay and tcpKeepAlive set the socket", arguments: Backend.available)
    func tcpOptions(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (first, second) = try makeConnections(reactor, .tcp)
        let tcp = try #require(first as? TCPConnection)
        let fd = tcp.fileDescriptor
        #expect(tcp.tcpNoDelay)
        #expect(try Socket.option(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY) != 0)
        #expect(!tcp.tcpKeepAlive)
        tcp.tcpKeepAlive = true
        #expect(tcp.tcpKeepAlive)
        #expect(try Socket.option(fd, level: SOL_SOCKET, name: SO_KEEPALIVE) != 0)
        tcp.tcpNoDelay = false
        #expect(!tcp.tcpNoDelay)
        #expect(try Socket.option(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY) == 0)
        // host and peer are the two ends, crossed.
        let host = try #require(first.host as? IPv4Address)
        let peer = try #require(second.peer as? IPv4Address)
        #expect(host == peer)
        #expect(first.peer as? IPv4Address == second.host as? IPv4Address)
        #expect(host.host == "127.0.0.1" && host.port > 0)
        first.start(protocol: RecordingProtocol()) { _ in }
        second.start(protocol: RecordingProtocol()) { _ in }
        first.abortConnection()
        second.abortConnection()
        iterate(reactor) { reactor.liveConnectionCount == 0 }
        expectNoTransportLeaks(reactor)
    }
}
