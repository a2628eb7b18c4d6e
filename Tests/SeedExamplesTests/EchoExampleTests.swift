import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

@Suite("Seed 003 examples 2-1 and 2-2: echo server and client")
struct EchoExampleTests {
    @Test("The client sends Hello,world!, gets it echoed, and both ends close cleanly")
    func clientAndServerOverConnection() throws {
        let server = EchoExample.EchoFactory()
        let clientFactory = EchoExample.EchoClientFactory(reactor: MemoryReactor())
        let (client, _, pump) = try connectedPair(
            server: try build(server),
            client: try build(clientFactory, as: EchoExample.EchoClient.self))
        #expect(client.reply == Array("Hello,world!".utf8))
        #expect(pump.client.lostReason?.check(ConnectionDone.self) != nil)
        #expect(pump.server.lostReason?.check(ConnectionDone.self) != nil)
        #expect(pump.server.pendingBytes.isEmpty)
    }

    @Test("EchoFactory counts the protocols it builds and keeps the latest peer address")
    func factoryRecordsAddresses() throws {
        let factory = EchoExample.EchoFactory()
        #expect(factory.lastPeerAddress == nil)
        let other = IPv4Address(.tcp, host: "10.1.2.3", port: 4000)
        _ = factory.buildProtocol(address: clientAddress)
        _ = factory.buildProtocol(address: other)
        #expect(factory.builtCount == 2)
        #expect(factory.lastPeerAddress.map { "\($0)" } == "\(other)")
    }

    @Test("The client factory stops the reactor when the connection ends")
    func clientStopsReactorOnLost() throws {
        let reactor = MemoryReactor()
        try reactor.run()
        let factory = EchoExample.EchoClientFactory(reactor: reactor, message: "ping")
        let connector = try #require(
            reactor.connectTCP(host: "127.0.0.1", port: 8001, factory: factory, timeout: 30, bindAddress: nil)
                as? MemoryConnector)
        let client = try #require(try connector.completeConnection() as? EchoExample.EchoClient)
        let transport = try #require(connector.transport)
        #expect(transport.valueString == "ping")
        client.receive("ping")
        #expect(transport.disconnecting)
        #expect(reactor.running)

        try connector.connectionLost()
        #expect(factory.endReason?.check(ConnectionDone.self) != nil)
        #expect(!reactor.running)
        #expect(factory.stopError == nil)
    }

    @Test("The client factory stops the reactor when the connection fails")
    func clientStopsReactorOnFailure() throws {
        let reactor = MemoryReactor()
        try reactor.run()
        let factory = EchoExample.EchoClientFactory(reactor: reactor)
        let connector = try #require(
            reactor.connectTCP(host: "127.0.0.1", port: 8001, factory: factory, timeout: 30, bindAddress: nil)
                as? MemoryConnector)
        try connector.connectionFailed(reason: ConnectionRefused())
        #expect(factory.endReason?.check(ConnectionRefused.self) != nil)
        #expect(!reactor.running)
    }

    @Test("Stopping a reactor that is not running is recorded, not a crash")
    func stopErrorRecorded() throws {
        let reactor = MemoryReactor()
        let factory = EchoExample.EchoClientFactory(reactor: reactor)
        let connector = reactor.connectTCP(
            host: "127.0.0.1", port: 8001, factory: factory, timeout: 30, bindAddress: nil)
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        #expect(factory.stopError?.check(ReactorNotRunning.self) != nil)
    }
}
