import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// `true` when `::1` can be bound (containers often disable IPv6).
let ipv6LoopbackWorks: Bool = {
    guard let descriptor = try? Socket.makeSocket(family: AF_INET6, kind: .stream) else { return false }
    defer { close(descriptor) }
    return (try? Socket.bind(descriptor, to: .ipv6(IPv6Address(host: "::1", port: 0)))) != nil
}()

@Suite("TCP: ports and addresses on every backend")
struct TCPTests {
    /// What each end of one connection saw.
    struct Ends {
        var listening: (any Address)?
        var serverHost: (any Address)?
        var serverPeer: (any Address)?
        var clientHost: (any Address)?
        var clientPeer: (any Address)?
        var factoryPeer: (any Address)?
    }

    /// Listens on port 0 of `interface`, connects to it from `host`, and
    /// records the addresses each end reports.
    func exchangeAddresses(_ reactor: Reactor, interface: String) throws -> Ends {
        var ends = Ends()
        let server = RecordingServerFactory()
        let client = RecordingClientFactory()
        let network = reactor
        let port = try network.listenTCP(0, factory: server, backlog: 50, interface: interface)
        ends.listening = port.host
        let bothLost = Countdown(2) { stopListening([port], thenStop: reactor) }
        server.configure = { proto in
            proto.onMade = { proto in
                ends.serverHost = proto.transport?.host
                ends.serverPeer = proto.transport?.peer
                proto.transport?.loseConnection()
            }
            proto.onLost = { _, _ in bothLost.tick() }
        }
        client.configure = { proto in
            proto.onMade = { proto in
                ends.clientHost = proto.transport?.host
                ends.clientPeer = proto.transport?.peer
            }
            proto.onLost = { _, _ in bothLost.tick() }
        }
        reactor.callWhenRunning {
            network.connectTCP(
                host: interface, port: portNumber(port.host), factory: client, timeout: 10, bindAddress: nil)
        }
        try reactor.run()
        ends.factoryPeer = server.peers.first
        server.dropHooks()
        client.dropHooks()
        return ends
    }

    @Test(
        "listenTCP on port 0 reports the chosen port; both ends agree on host and peer (IPv4)",
        arguments: Backend.available)
    func portZeroIPv4(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let ends = try exchangeAddresses(reactor, interface: "127.0.0.1")
            let listening = try #require(ends.listening as? IPv4Address)
            #expect(listening.host == "127.0.0.1")
            #expect(listening.port > 0)
            let serverHost = try #require(ends.serverHost as? IPv4Address)
            let clientPeer = try #require(ends.clientPeer as? IPv4Address)
            let clientHost = try #require(ends.clientHost as? IPv4Address)
            let serverPeer = try #require(ends.serverPeer as? IPv4Address)
            #expect(serverHost == listening)
            #expect(clientPeer == listening)
            #expect(serverPeer == clientHost)
            #expect(clientHost.host == "127.0.0.1" && clientHost.port > 0)
            #expect((ends.factoryPeer as? IPv4Address) == clientHost)
        }
    }

    @Test(
        "listenTCP on port 0 of ::1 listens on IPv6 and reports the chosen port",
        .enabled(if: ipv6LoopbackWorks, "IPv6 loopback is disabled on this host"),
        arguments: Backend.available)
    func portZeroIPv6(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let ends = try exchangeAddresses(reactor, interface: "::1")
            let listening = try #require(ends.listening as? IPv6Address)
            #expect(listening.host == "::1")
            #expect(listening.port > 0)
            let clientPeer = try #require(ends.clientPeer as? IPv6Address)
            let serverPeer = try #require(ends.serverPeer as? IPv6Address)
            let clientHost = try #require(ends.clientHost as? IPv6Address)
            #expect(clientPeer.port == listening.port)
            #expect(serverPeer.port == clientHost.port)
        }
    }

    // Not "bound again after stopListening": tests run in parallel, and
    // another test's outgoing connection may take the freed port as its
    // local port in between. The leak check shows the socket was closed.
    @Test(
        "listening on a port in use fails with CannotListenError and leaves the first port listening",
        arguments: Backend.available)
    func bindConflict(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, .tcp)
            var conflict: CannotListenError?
            let clientReceived = try scenario.runServing { transport in
                do {
                    _ = try reactor.listenTCP(
                        portNumber(scenario.port?.host ?? IPv4Address(host: "", port: 0)),
                        factory: RecordingServerFactory(), backlog: 50, interface: "127.0.0.1")
                } catch let error as CannotListenError {
                    conflict = error
                } catch {
                    Issue.record(error)
                }
                transport.write(Array("still served".utf8))
            }
            let port = try #require(scenario.port)
            #expect(conflict?.port == String(portNumber(port.host)))
            #expect(conflict?.interface == "127.0.0.1")
            #expect(clientReceived == Array("still served".utf8))
        }
    }

    @Test(
        "TCP transports disable Nagle by default; keep-alive can be switched on and off", arguments: Backend.available)
    func socketOptions(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, .tcp)
            var noDelay: [Bool] = []
            var keepAlive: [Bool] = []
            let bothLost = Countdown(2) { scenario.finish() }
            func inspect(_ proto: RecordingProtocol) {
                guard let transport = proto.transport as? any TCPTransport else {
                    Issue.record("not a TCPTransport: \(String(describing: proto.transport))")
                    return
                }
                noDelay.append(transport.tcpNoDelay)
                keepAlive.append(transport.tcpKeepAlive)
                transport.tcpKeepAlive = true
                keepAlive.append(transport.tcpKeepAlive)
                transport.tcpNoDelay = false
                noDelay.append(transport.tcpNoDelay)
            }
            scenario.server.configure = { proto in
                proto.onMade = { inspect($0) }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            scenario.client.configure = { proto in
                proto.onMade = { proto in
                    inspect(proto)
                    proto.transport?.loseConnection()
                }
                proto.onLost = { _, _ in bothLost.tick() }
            }
            try scenario.run()
            #expect(noDelay == [true, false, true, false])
            #expect(keepAlive == [false, true, false, true])
        }
    }

    @Test(
        "an attempt that gets no answer fails with TimeoutError once the timeout passed",
        arguments: Backend.available)
    func connectTimeout(backend: Backend) throws {
        try withReactor(backend) { reactor in
            // A listener whose accept queue (backlog 0: one connection) is
            // full: Linux drops further SYNs, so the attempt hears nothing.
            let listener = try Socket.makeListeningSocket(
                on: .ipv4(IPv4Address(host: "127.0.0.1", port: 0)), backlog: 0)
            defer { close(listener) }
            let address = try Socket.localAddress(listener)
            // Blocking, so the queue is full before the attempt starts.
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(filler) }
            let connected = try address.withSockAddr { (pointer, length) throws(SystemError) in
                connect(filler, pointer, length)
            }
            try #require(connected == 0)
            let client = RecordingClientFactory()
            var built = 0
            client.configure = { _ in built += 1 }
            let started = reactor.seconds()
            var failedAfter: Double?
            client.onFailed = { _, _ in
                failedAfter = reactor.seconds() - started
                try? reactor.stop()
            }
            reactor.callWhenRunning {
                reactor.connectTCP(
                    host: "127.0.0.1", port: portNumber(address.address), factory: client, timeout: 0.05,
                    bindAddress: nil)
            }
            try reactor.run()
            client.dropHooks()
            #expect(client.failures.count == 1)
            #expect(client.failures.first?.error is TimeoutError, "\(client.failures)")
            #expect(failedAfter.map { $0 >= 0.05 } == true)
            #expect(built == 0)
        }
    }

    @Test("connectTCP from a bindAddress connects from that local address", arguments: Backend.available)
    func bindAddress(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let server = RecordingServerFactory()
            let port = try reactor.listenTCP(0, factory: server, backlog: 50, interface: "127.0.0.1")
            var serverPeer: (any Address)?
            var clientHost: (any Address)?
            let client = RecordingClientFactory()
            server.configure = { proto in
                proto.onMade = { proto in
                    serverPeer = proto.transport?.peer
                    proto.transport?.loseConnection()
                }
            }
            client.configure = { proto in
                proto.onMade = { proto in clientHost = proto.transport?.host }
                proto.onLost = { _, _ in stopListening([port], thenStop: reactor) }
            }
            reactor.callWhenRunning {
                // Every 127/8 address is local on Linux; .2 is not the default source.
                reactor.connectTCP(
                    host: "127.0.0.1", port: portNumber(port.host), factory: client, timeout: 10,
                    bindAddress: BindAddress(host: "127.0.0.2"))
            }
            try reactor.run()
            server.dropHooks()
            client.dropHooks()
            #expect((serverPeer as? IPv4Address)?.host == "127.0.0.2")
            #expect((clientHost as? IPv4Address)?.host == "127.0.0.2")
            #expect((clientHost as? IPv4Address)?.port == (serverPeer as? IPv4Address)?.port)
        }
    }

    @Test(
        "with reusePort two ports listen on the same TCP port; without it the second is refused",
        arguments: Backend.available)
    func reusePort(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let first = try reactor.listenTCP(
                0, factory: RecordingServerFactory(), interface: "127.0.0.1", reusePort: true)
            let number = portNumber(first.host)
            let second = try reactor.listenTCP(
                number, factory: RecordingServerFactory(), interface: "127.0.0.1", reusePort: true)
            #expect(portNumber(second.host) == number)
            #expect(throws: CannotListenError.self) {
                try reactor.listenTCP(number, factory: RecordingServerFactory(), backlog: 50, interface: "127.0.0.1")
            }
            reactor.callWhenRunning { stopListening([first, second], thenStop: reactor) }
            try reactor.run()
        }
    }

    @Test("connectTCP resolves a host name through the reactor before connecting", arguments: Backend.available)
    func connectByName(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let server = RecordingServerFactory()
            let client = RecordingClientFactory()
            var clientReceived: [UInt8] = []
            var port: (any ListeningPort)?
            server.configure = { proto in
                proto.onMade = { proto in
                    proto.transport?.write(Array("by name".utf8))
                    proto.transport?.loseConnection()
                }
            }
            client.configure = { proto in
                proto.onLost = { proto, _ in
                    clientReceived = proto.received
                    stopListening(port.map { [$0] } ?? [], thenStop: reactor)
                }
            }
            client.onFailed = { _, reason in
                Issue.record("connecting by name failed: \(reason)")
                stopListening(port.map { [$0] } ?? [], thenStop: reactor)
            }
            reactor.callWhenRunning {
                // Listen where "localhost" resolves to here (127.0.0.1 or
                // ::1), then connect by name.
                reactor.resolve("localhost", timeout: 10).addBoth { (result: Result<String, Failure>) in
                    do {
                        let address = try result.get()
                        let listening = try reactor.listenTCP(0, factory: server, backlog: 50, interface: address)
                        port = listening
                        reactor.connectTCP(
                            host: "localhost", port: portNumber(listening.host), factory: client, timeout: 10,
                            bindAddress: nil)
                    } catch {
                        Issue.record(error)
                        try? reactor.stop()
                    }
                }
            }
            try reactor.run()
            server.dropHooks()
            client.dropHooks()
            #expect(clientReceived == Array("by name".utf8))
        }
    }
}
