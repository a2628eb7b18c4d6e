import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// The kinds of listening port the end-to-end behaviours run on.
enum ListenKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case tcp4 = "TCP over IPv4"
    case tcp6 = "TCP over IPv6"
    case unixPath = "UNIX path"
    case unixAbstract = "UNIX abstract name"

    var description: String { rawValue }

    /// Whether this host can run it.
    var works: Bool { self != .tcp6 || ipv6LoopbackWorks }

    /// A listening port of this kind for `factory`, and a function that
    /// connects a client factory to it.
    func listen(
        _ reactor: Reactor, _ factory: Factory
    ) throws -> (port: any ListeningPort, connect: (ClientFactory) -> any Connector) {
        switch self {
        case .tcp4, .tcp6:
            let interface = self == .tcp4 ? "127.0.0.1" : "::1"
            let port = try reactor.listenTCP(0, factory: factory, interface: interface)
            let number = (port.host as? IPv4Address)?.port ?? (port.host as? IPv6Address)?.port ?? 0
            return (port, { reactor.connectTCP(host: interface, port: number, factory: $0, timeout: 10) })
        case .unixPath, .unixAbstract:
            let path = (self == .unixAbstract ? "\0" : "") + uniqueSocketPath("e2e")
            let port = try reactor.listenUNIX(path, factory: factory)
            return (port, { reactor.connectUNIX(path, factory: $0, timeout: 10) })
        }
    }
}

/// Every backend with every listening kind this host can run.
let backendsAndListenKinds: [(Backend, ListenKind)] = Backend.available.flatMap { backend in
    ListenKind.allCases.filter(\.works).map { (backend, $0) }
}

/// A server factory whose protocols echo what they receive and are kept
/// for inspection.
final class EchoServerFactory: Factory {
    var protocols: [RecordingProtocol] = []
    var peers: [any Address] = []
    var onMade: (RecordingProtocol) -> Void = { _ in }

    override func buildProtocol(address: any Address) -> Protocol? {
        peers.append(address)
        let echo = RecordingProtocol()
        echo.onData = { $0.transport?.write($1) }
        echo.onMade = { [unowned self] in onMade($0) }
        protocols.append(echo)
        return echo
    }
}

@Suite("Ports and connectors carrying connections, on every backend")
struct PortConnectionTests {
    @Test(
        "a client and a server exchange bytes; addresses, factory events and clean close",
        arguments: backendsAndListenKinds)
    func exchange(backend: Backend, kind: ListenKind) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        let (port, connect) = try kind.listen(reactor, server)
        let client = RecordingClientFactory()
        var clientProtocol: RecordingProtocol?
        client.make = {
            let made = RecordingProtocol()
            made.onMade = { $0.transport?.write(Array("hello".utf8)) }
            made.onData = { proto, _ in
                if proto.received.count == 5 { proto.transport?.loseConnection() }
            }
            clientProtocol = made
            return made
        }
        let connector = connect(client)
        try turn(reactor) { client.events.last == "stop" && server.protocols.first?.lost.count == 1 }
        #expect(client.events == ["start", "startedConnecting", "build", "lost", "stop"])
        #expect(String(decoding: clientProtocol?.received ?? [], as: UTF8.self) == "hello")
        #expect(lossKind(client.losses.first) == "done")
        #expect(lossKind(server.protocols.first?.lost.first) == "done")
        #expect((connector as? StreamConnector)?.stateName == "disconnected")

        let serverTransport = try #require(server.protocols.first?.transport)
        let clientTransport = try #require(clientProtocol?.transport)
        #expect(serverTransport.host.description == clientTransport.peer.description)
        #expect(serverTransport.peer.description == clientTransport.host.description)
        #expect(server.peers.first?.description == serverTransport.peer.description)
        switch kind {
        case .tcp4, .tcp6:
            #expect(serverTransport is any TCPTransport)
            #expect(clientTransport.peer.description == port.host.description)
        case .unixPath, .unixAbstract:
            #expect(serverTransport is any UNIXTransport)
            #expect(clientTransport.peer.description == port.host.description)
        }
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a host name is resolved through the reactor before connecting", arguments: Backend.available)
    func resolvedName(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        server.onMade = { $0.transport?.loseConnection() }
        let client = RecordingClientFactory()
        client.onLost = { _, _ in try? reactor.stop() }
        client.onFailed = { _, _ in try? reactor.stop() }
        var connector: (any Connector)?
        // Names are resolved on the thread pool, which runs with the reactor.
        reactor.callWhenRunning {
            do {
                let port = try reactor.listenTCP(0, factory: server, interface: "127.0.0.1")
                let number = (port.host as? IPv4Address)?.port ?? 0
                connector = reactor.connectTCP(host: "localhost", port: number, factory: client)
            } catch {
                Issue.record("listen failed: \(error)")
                try? reactor.stop()
            }
        }
        try runWithWatchdog(reactor)
        #expect(client.events == ["start", "startedConnecting", "build", "lost", "stop"])
        #expect((server.peers.first as? IPv4Address)?.host == "127.0.0.1")
        #expect((connector?.destination as? IPv4Address)?.host == "localhost")
        expectNoTransportLeaks(reactor)
    }

    @Test("connect() from clientConnectionLost reconnects", arguments: Backend.available)
    func reconnect(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        server.onMade = { $0.transport?.loseConnection() }
        let (port, connect) = try ListenKind.tcp4.listen(reactor, server)
        let client = RecordingClientFactory()
        client.onLost = { connector, _ in
            if client.losses.count < 3 { connector.connect() }
        }
        _ = connect(client)
        try turn(reactor) { client.events.last == "stop" }
        #expect(
            client.events == [
                "start", "startedConnecting", "build", "lost", "startedConnecting", "build", "lost",
                "startedConnecting", "build", "lost", "stop",
            ])
        #expect(server.protocols.count == 3)
        try turn(reactor) { server.protocols.allSatisfy { $0.lost.count == 1 } }
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("disconnect on a connected connector closes the connection cleanly", arguments: Backend.available)
    func disconnectConnected(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        let (port, connect) = try ListenKind.unixAbstract.listen(reactor, server)
        let client = RecordingClientFactory()
        var connector: (any Connector)?
        client.make = {
            let made = RecordingProtocol()
            made.onMade = { _ in connector?.disconnect() }
            return made
        }
        connector = connect(client)
        try turn(reactor) { client.events.last == "stop" && server.protocols.first?.lost.count == 1 }
        #expect(lossKind(client.losses.first) == "done")
        #expect(throws: NotConnectingError.self) { try connector?.stopConnecting() }
        connector = nil
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("bindAddress sets the client's local address", arguments: Backend.available)
    func bindAddress(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        server.onMade = { $0.transport?.loseConnection() }
        let port = try reactor.listenTCP(0, factory: server, interface: "127.0.0.1")
        let client = RecordingClientFactory()
        // All of 127.0.0.0/8 is loopback on Linux: a second local address.
        reactor.connectTCP(
            host: "127.0.0.1", port: (port.host as? IPv4Address)?.port ?? 0, factory: client,
            bindAddress: BindAddress(host: "127.0.0.2"))
        try turn(reactor) { client.events.last == "stop" }
        #expect((server.peers.first as? IPv4Address)?.host == "127.0.0.2")
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "a client factory that builds no protocol fails the attempt and closes the socket", arguments: Backend.available
    )
    func clientRefuses(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        let (port, connect) = try ListenKind.tcp4.listen(reactor, server)
        let client = RecordingClientFactory()
        client.make = { nil }
        _ = connect(client)
        try turn(reactor) { client.events.last == "stop" && server.protocols.first?.lost.count == 1 }
        #expect(client.events == ["start", "startedConnecting", "build", "failed", "stop"])
        #expect(client.failures.first?.error is ConnectError)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("more clients than one readiness report accepts are all served", arguments: Backend.available)
    func manyClients(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        let (port, connect) = try ListenKind.tcp4.listen(reactor, server)
        let count = 50
        let client = RecordingClientFactory()
        client.make = {
            let made = RecordingProtocol()
            made.onMade = { $0.transport?.write([1, 2, 3]) }
            made.onData = { proto, _ in
                if proto.received.count == 3 { proto.transport?.loseConnection() }
            }
            return made
        }
        for _ in 0..<count { _ = connect(client) }
        try turn(reactor) {
            client.losses.count == count && server.protocols.count == count
                && server.protocols.allSatisfy { $0.lost.count == 1 }
        }
        #expect(client.losses.allSatisfy { lossKind($0) == "done" })
        #expect(client.events.last == "stop" && client.numPorts == 0)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("the reactor's shutdown closes ports, connections and attempts; nothing leaks", arguments: Backend.available)
    func shutdown(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let server = EchoServerFactory()
        let client = RecordingClientFactory()
        client.make = {
            let made = RecordingProtocol()
            made.onMade = { _ in try? reactor.stop() }
            return made
        }
        reactor.callWhenRunning {
            do {
                let (_, connect) = try ListenKind.tcp4.listen(reactor, server)
                _ = connect(client)
            } catch {
                Issue.record("listen failed: \(error)")
                try? reactor.stop()
            }
        }
        try runWithWatchdog(reactor)
        #expect(client.events == ["start", "startedConnecting", "build", "lost", "stop"])
        #expect(server.numPorts == 0)
        #expect(server.protocols.count == 1 && server.protocols.first?.lost.count == 1)
        expectNoTransportLeaks(reactor)
    }
}
