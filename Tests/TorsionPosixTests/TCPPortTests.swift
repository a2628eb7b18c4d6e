import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

private func tcpPort(_ port: any ListeningPort) -> Int {
    (port.host as? IPv4Address)?.port ?? (port.host as? IPv6Address)?.port ?? 0
}

@Suite("listenTCP: listening ports on every backend")
struct TCPPortTests {
    @Test("port 0 reports the port the system chose", arguments: Backend.available)
    func portZero(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let port = try reactor.listenTCP(0, factory: LifecycleFactory(), interface: "127.0.0.1")
        let host = try #require(port.host as? IPv4Address)
        #expect(host.host == "127.0.0.1" && host.port > 0 && host.type == .tcp)
        let address = try Socket.localAddress(try #require(listeningDescriptor(port)))
        #expect(address == .ipv4(host))
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("an empty interface listens on every IPv4 interface", arguments: Backend.available)
    func allInterfaces(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let port = try reactor.listenTCP(0, factory: LifecycleFactory())
        let host = try #require(port.host as? IPv4Address)
        #expect(host.host == "0.0.0.0" && host.port > 0)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "an interface containing ':' listens on IPv6", .enabled(if: ipv6LoopbackWorks, "IPv6 is disabled here"),
        arguments: Backend.available)
    func ipv6(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "::1")
        let host = try #require(port.host as? IPv6Address)
        #expect(host.host == "::1" && host.port > 0)
        let client = try rawClient(to: .ipv6(host))
        defer { close(client) }
        // The factory refuses: the connection is accepted, then closed.
        try turn(reactor) { readAvailable(client) == [] }
        #expect(factory.built.first as? IPv6Address != nil)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("listening sockets set SO_REUSEADDR", arguments: Backend.available)
    func reuseAddress(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let port = try reactor.listenTCP(0, factory: LifecycleFactory(), interface: "127.0.0.1")
        let descriptor = try #require(listeningDescriptor(port))
        #expect(try Socket.option(descriptor, level: SOL_SOCKET, name: SO_REUSEADDR) != 0)
        #expect(try Socket.option(descriptor, level: SOL_SOCKET, name: SO_REUSEPORT) == 0)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a port in use is a CannotListenError; with reusePort two ports share it", arguments: Backend.available)
    func bindConflictAndReusePort(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let first = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1", reusePort: true)
        let number = tcpPort(first)
        let error = #expect(throws: CannotListenError.self) {
            try reactor.listenTCP(number, factory: factory, interface: "127.0.0.1")
        }
        #expect(error?.interface == "127.0.0.1" && error?.port == String(number))
        #expect(error?.reason.contains(String(cString: strerror(EADDRINUSE))) == true)
        let second = try reactor.listenTCP(number, factory: factory, interface: "127.0.0.1", reusePort: true)
        #expect(tcpPort(second) == number)
        #expect(factory.numPorts == 2)
        first.stopListening()
        second.stopListening()
        expectNoLeaksAfterTurn(reactor)
        #expect(factory.events == ["start", "stop"])
    }

    @Test("an interface that is not a numeric address is a CannotListenError", arguments: Backend.available)
    func invalidInterface(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        #expect(throws: CannotListenError.self) {
            try reactor.listenTCP(0, factory: factory, interface: "example.com")
        }
        #expect(throws: CannotListenError.self) {
            try reactor.listenTCP(70000, factory: factory, interface: "127.0.0.1")
        }
        #expect(factory.events.isEmpty)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "the factory starts on listen and stops after stopListening, before its Deferred fires",
        arguments: Backend.available)
    func factoryLifecycle(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1")
        #expect(factory.events == ["start"])
        var fired = false
        port.stopListening().addCallback {
            factory.events.append("fired")
            fired = true
        }
        // Not inside the call: on the next turn.
        #expect(factory.events == ["start"])
        try turn(reactor) { fired }
        #expect(factory.events == ["start", "stop", "fired"])
        // Stopping again is a no-op that has already fired.
        #expect(port.stopListening().called)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("stopListening closes the socket at once: the port can be bound again", arguments: Backend.available)
    func stopFreesThePort(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1")
        let number = tcpPort(port)
        port.stopListening()
        let client = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { close(client) }
        var refused = false
        do {
            if try Socket.connect(client, to: .ipv4(IPv4Address(host: "127.0.0.1", port: number))) == .pending {
                var entry = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, 5000)
                try Socket.finishConnect(client)
            }
        } catch {
            refused = true
        }
        #expect(refused)
        let again = try reactor.listenTCP(number, factory: factory, interface: "127.0.0.1")
        #expect(tcpPort(again) == number)
        again.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("startListening after stopListening listens again", arguments: Backend.available)
    func restart(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1")
        var stopped = false
        port.stopListening().addCallback { stopped = true }
        try turn(reactor) { stopped }
        try port.startListening()
        try port.startListening()
        #expect(factory.events == ["start", "stop", "start"])
        let client = try rawClient(to: .ipv4(try #require(port.host as? IPv4Address)))
        defer { close(client) }
        try turn(reactor) { readAvailable(client) == [] }
        #expect(factory.built.count == 1)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("buildProtocol returning nil closes the accepted socket", arguments: Backend.available)
    func refusedByFactory(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1")
        let clients = try (0..<3).map { _ in try rawClient(to: .ipv4(try #require(port.host as? IPv4Address))) }
        defer { clients.forEach { close($0) } }
        try turn(reactor) { clients.allSatisfy { readAvailable($0) == [] } }
        #expect(factory.built.count == 3)
        let peer = try #require(factory.built.first as? IPv4Address)
        #expect(peer.host == "127.0.0.1")
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "a shutdown right after stopListening still stops the factory and fires the Deferred",
        arguments: Backend.available)
    func stopThenShutdown(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1")
        var fired = false
        reactor.callWhenRunning {
            port.stopListening().addCallback { fired = true }
            try? reactor.stop()
        }
        try runWithWatchdog(reactor)
        #expect(fired)
        #expect(factory.events == ["start", "stop"])
        expectNoTransportLeaks(reactor)
    }

    @Test("the reactor's shutdown stops listening and stops the factory", arguments: Backend.available)
    func shutdown(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1")
        reactor.callWhenRunning { try? reactor.stop() }
        try runWithWatchdog(reactor)
        #expect(factory.events == ["start", "stop"])
        #expect((port as? StreamPort)?.listening == false)
        expectNoTransportLeaks(reactor)
    }
}

/// The descriptor `port` listens on, while it does.
func listeningDescriptor(_ port: any ListeningPort) -> Int32? {
    (port as? StreamPort)?.descriptor
}

/// Turns the loop once (a stopped port finishes on the next turn), then
/// checks for leaks: timers, registrations, descriptors, connections.
func expectNoLeaksAfterTurn(_ reactor: Reactor, sourceLocation: SourceLocation = #_sourceLocation) {
    reactor.iterate(delay: 0)
    expectNoTransportLeaks(reactor, sourceLocation: sourceLocation)
}
