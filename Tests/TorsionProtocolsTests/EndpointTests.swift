import Testing
import TorsionCore
import TorsionProtocols
import TorsionTesting

/// Records what an endpoint delivers to it.
private final class EndpointTestProtocol: Protocol {
    var madeCount = 0
    var received: [[UInt8]] = []
    var lostReasons: [Failure] = []

    override func connectionMade() { madeCount += 1 }
    override func dataReceived(_ data: [UInt8]) { received.append(data) }
    override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        lostReasons.append(reason)
    }
}

/// Also wants half-close events.
private final class HalfCloseTestProtocol: Protocol, HalfCloseableProtocol {
    var events: [String] = []
    func readConnectionLost() { events.append("read") }
    func writeConnectionLost() { events.append("write") }
}

/// A factory refusing every connection.
private final class RefusingFactory: Factory {
    override func buildProtocol(address: any Address) -> Protocol? { nil }
}

/// The result of `deferred` if it has fired. This consumes the result:
/// call it once per Deferred (use ``Watched`` to look more than once).
private func outcome<Value>(_ deferred: Deferred<Value>) -> Result<Value, Failure>? {
    Watched(deferred).result
}

/// Takes a Deferred's result when it fires, so a test can look before and after.
private final class Watched<Value> {
    var result: Result<Value, Failure>?
    init(_ deferred: Deferred<Value>) {
        _ = deferred.addBoth { self.result = $0 }
    }
}

@Suite("Stream endpoints")
struct EndpointTests {
    let reactor = MemoryReactor()

    // MARK: listen

    @Test("listen calls listenTCP with the endpoint's arguments and fires with the port")
    func listenTCP() throws {
        let factory = Factory.forProtocol(EndpointTestProtocol.init)
        let port = outcome(
            TCP4ServerEndpoint(reactor: reactor, port: 8080, backlog: 9, interface: "127.0.0.1").listen(factory))
        let record = try #require(reactor.tcpServers.first)
        #expect(
            record.port == 8080 && record.backlog == 9 && record.interface == "127.0.0.1" && record.factory === factory)
        #expect(try #require(port).get() === record.listeningPort)
    }

    @Test("tcp6 and unix endpoints from strings reach listenTCP and listenUNIX")
    func listenFromStrings() throws {
        let factory = Factory()
        _ = try serverFromString(reactor, #"tcp6:0:interface=\:\:1"#).listen(factory)
        _ = try serverFromString(reactor, "unix:@sock:mode=640:backlog=2").listen(factory)
        #expect(reactor.tcpServers.map(\.interface) == ["::1"])
        let unix = try #require(reactor.unixServers.first)
        #expect(unix.path == "\0sock" && unix.mode == 0o640 && unix.backlog == 2)
    }

    @Test("a listen error becomes the Deferred's failure")
    func listenFailure() throws {
        reactor.listenError = CannotListenError(interface: "", port: "80", reason: "Address already in use")
        let result = try #require(outcome(TCP4ServerEndpoint(reactor: reactor, port: 80).listen(Factory())))
        guard case .failure(let failure) = result else { Issue.record("listen succeeded"); return }
        #expect(failure.check(CannotListenError.self) != nil)
        let unix = try #require(outcome(UNIXServerEndpoint(reactor: reactor, path: "/s").listen(Factory())))
        guard case .failure = unix else { Issue.record("listenUNIX succeeded"); return }
    }

    // MARK: connect

    @Test("connect fires with the wrapped protocol after its connectionMade, on the real transport")
    func connectFires() throws {
        let endpoint = try clientFromString(reactor, "tcp:host=example.com:port=80:timeout=5:bindAddress=10.0.0.3")
        let watched = Watched(endpoint.connect(Factory.forProtocol(EndpointTestProtocol.init)))
        let record = try #require(reactor.tcpClients.first)
        #expect(record.host == "example.com" && record.port == 80 && record.timeout == 5)
        #expect(record.bindAddress == BindAddress(host: "10.0.0.3"))
        #expect(watched.result == nil)

        let transport = StringTransport()
        try record.connector.completeConnection(transport: transport)
        let connected = try #require(try watched.result?.get() as? EndpointTestProtocol)
        #expect(connected.madeCount == 1)
        #expect(connected.transport === transport)
    }

    @Test("the Deferred waits for connectionMade, not buildProtocol")
    func firesOnConnectionMadeNotBuild() throws {
        let wrapping = EndpointConnectingFactory(wrapping: Factory.forProtocol(EndpointTestProtocol.init))
        let watched = Watched(wrapping.whenConnected)
        let forwarding = try #require(wrapping.buildProtocol(address: IPv4Address(host: "10.0.0.1", port: 1)))
        #expect(watched.result == nil)
        forwarding.makeConnection(StringTransport())
        #expect(try watched.result?.get() is EndpointTestProtocol)
    }

    @Test("data and connectionLost reach the wrapped protocol")
    func forwardsEvents() throws {
        let deferred = UNIXClientEndpoint(reactor: reactor, path: "/s", timeout: 3).connect(
            Factory.forProtocol(EndpointTestProtocol.init))
        let record = try #require(reactor.unixClients.first)
        #expect(record.path == "/s" && record.timeout == 3)
        let forwarding = try #require(try record.connector.completeConnection())
        let wrapped = try #require(try outcome(deferred)?.get() as? EndpointTestProtocol)
        forwarding.dataReceived([1, 2, 3])
        try record.connector.connectionLost(reason: ConnectionDone())
        #expect(wrapped.received == [[1, 2, 3]])
        #expect(wrapped.lostReasons.count == 1 && wrapped.lostReasons[0].check(ConnectionDone.self) != nil)
        #expect(!forwarding.connected && !wrapped.connected)
    }

    @Test("a failed attempt fails the Deferred with its reason")
    func connectFails() throws {
        let deferred = TCPClientEndpoint(reactor: reactor, host: "h", port: 1).connect(Factory())
        try #require(reactor.tcpClients.first).connector.connectionFailed(reason: ConnectionRefused())
        guard case .failure(let failure) = try #require(outcome(deferred)) else { Issue.record("connected"); return }
        #expect(failure.check(ConnectionRefused.self) != nil)
    }

    @Test("a factory refusing the connection fails the Deferred with NoProtocolError")
    func refusedProtocol() throws {
        let deferred = TCPClientEndpoint(reactor: reactor, host: "h", port: 1).connect(RefusingFactory())
        #expect(try reactor.tcpClients[0].connector.completeConnection() == nil)
        guard case .failure(let failure) = try #require(outcome(deferred)) else { Issue.record("connected"); return }
        #expect(failure.check(NoProtocolError.self) != nil)
    }

    @Test("cancelling while connecting stops the connector and fails with ConnectingCancelledError")
    func cancelWhileConnecting() throws {
        let deferred = TCPClientEndpoint(reactor: reactor, host: "h", port: 1).connect(Factory())
        deferred.cancel()
        let connector = reactor.tcpClients[0].connector
        #expect(connector.stoppedConnecting && connector.state == .disconnected)
        guard case .failure(let failure) = try #require(outcome(deferred)) else { Issue.record("connected"); return }
        #expect(failure.check(ConnectingCancelledError.self) != nil)
    }

    @Test("cancelling after the connection is made changes nothing")
    func cancelAfterConnected() throws {
        let deferred = TCPClientEndpoint(reactor: reactor, host: "h", port: 1).connect(
            Factory.forProtocol(EndpointTestProtocol.init))
        let connector = reactor.tcpClients[0].connector
        try connector.completeConnection()
        deferred.cancel()
        #expect(connector.state == .connected && !connector.stoppedConnecting)
        #expect(try outcome(deferred)?.get() is EndpointTestProtocol)
    }

    @Test("half-close events are forwarded only to protocols that handle them")
    func halfClose() throws {
        let halfClosing = TCPClientEndpoint(reactor: reactor, host: "h", port: 1).connect(
            Factory.forProtocol(HalfCloseTestProtocol.init))
        let forwarding = try #require(
            try reactor.tcpClients[0].connector.completeConnection() as? HalfCloseableProtocol)
        forwarding.readConnectionLost()
        forwarding.writeConnectionLost()
        #expect(try (outcome(halfClosing)?.get() as? HalfCloseTestProtocol)?.events == ["read", "write"])

        _ = TCPClientEndpoint(reactor: reactor, host: "h", port: 1).connect(
            Factory.forProtocol(EndpointTestProtocol.init))
        let plain = try #require(try reactor.tcpClients[1].connector.completeConnection())
        #expect(!(plain is HalfCloseableProtocol))
    }

    @Test("the wrapped factory is started and stopped with the connecting factory")
    func factoryLifecycle() {
        let wrapped = Factory()
        let wrapping = EndpointConnectingFactory(wrapping: wrapped)
        wrapping.doStart()
        #expect(wrapped.numPorts == 1)
        wrapping.doStop()
        #expect(wrapped.numPorts == 0)
    }
}
