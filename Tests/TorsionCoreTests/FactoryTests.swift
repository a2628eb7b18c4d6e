import Testing
import TorsionCore
import TorsionTesting

@Suite("Factory")
struct FactoryTests {
    final class Counting: Factory {
        var starts = 0
        var stops = 0
        override func startFactory() { starts += 1 }
        override func stopFactory() { stops += 1 }
    }

    @Test("forProtocol builds a new protocol per call, each with its factory set")
    func forProtocol() throws {
        let factory = Factory.forProtocol(Protocol.init)
        let address = IPv4Address(host: "192.0.2.1", port: 1)
        let first = try #require(factory.buildProtocol(address: address))
        let second = try #require(factory.buildProtocol(address: address))
        #expect(first !== second)
        #expect(first.factory === factory && second.factory === factory)
    }

    @Test("without makeProtocol, buildProtocol returns nil to refuse the connection")
    func refuses() {
        let factory = Factory()
        #expect(factory.buildProtocol(address: UNIXAddress(nil)) == nil)
    }

    @Test("doStart and doStop reference-count ports: startFactory and stopFactory run exactly once")
    func referenceCounting() {
        let factory = Counting()
        factory.doStart()
        factory.doStart()
        #expect(factory.numPorts == 2)
        #expect(factory.starts == 1)
        factory.doStop()
        #expect(factory.stops == 0)
        factory.doStop()
        #expect(factory.stops == 1)
        #expect(factory.numPorts == 0)
    }

    @Test("an extra doStop is ignored; a later doStart starts the factory again")
    func extraDoStop() {
        let factory = Counting()
        factory.doStop()
        #expect(factory.stops == 0 && factory.numPorts == 0)
        factory.doStart()
        factory.doStop()
        factory.doStop()
        #expect(factory.starts == 1 && factory.stops == 1)
        factory.doStart()
        #expect(factory.starts == 2)
    }

    @Test("an overridden buildProtocol sees the connecting address and may refuse it")
    func overriddenBuildProtocol() {
        final class LocalOnly: Factory {
            override func buildProtocol(address: any Address) -> Protocol? {
                guard (address as? IPv4Address)?.host == "127.0.0.1" else { return nil }
                return super.buildProtocol(address: address)
            }
        }
        let factory = LocalOnly()
        factory.makeProtocol = Protocol.init
        #expect(factory.buildProtocol(address: IPv4Address(host: "127.0.0.1", port: 1))?.factory === factory)
        #expect(factory.buildProtocol(address: IPv4Address(host: "192.0.2.1", port: 1)) == nil)
    }

    @Test("a ClientFactory is told of each stage of a connection made through a connector")
    func clientFactoryCallbacks() throws {
        final class Recording: ClientFactory {
            var events: [String] = []
            override func startedConnecting(_ connector: any Connector) { events.append("started") }
            override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
                events.append("failed \(reason.errorType)")
            }
            override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
                events.append("lost \(reason.errorType)")
            }
        }
        let reactor = MemoryReactor()
        let factory = Recording()
        factory.makeProtocol = Protocol.init
        let connector = try #require(
            reactor.connectTCP(host: "192.0.2.1", port: 80, factory: factory) as? MemoryConnector)
        try connector.connectionFailed(reason: ConnectionRefused())
        connector.connect()
        try connector.completeConnection()
        try connector.connectionLost(reason: ConnectionLost())
        #expect(factory.events == ["started", "failed ConnectionRefused", "started", "lost ConnectionLost"])
    }
}
