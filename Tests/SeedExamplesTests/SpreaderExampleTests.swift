import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

@Suite("Seed 002: the Spreader broadcast server and its client")
struct SpreaderExampleTests {
    typealias Spreader = SpreaderExample.Spreader

    /// A factory naming its clients c1, c2, ...
    func makeFactory() -> SpreaderExample.SpreadFactory {
        var next = 0
        return SpreaderExample.SpreadFactory(makeClientID: {
            next += 1
            return "c\(next)"
        })
    }

    @Test("Each client is welcomed with its number and registered")
    func welcome() throws {
        let factory = makeFactory()
        let (alice, aliceTransport) = try connect(factory, as: Spreader.self)
        let (bob, bobTransport) = try connect(factory, as: Spreader.self)
        #expect(aliceTransport.valueString == "Welcome to Torsion World, you are client number 1!\n")
        #expect(bobTransport.valueString == "Welcome to Torsion World, you are client number 2!\n")
        #expect(factory.clients.map(\.clientID) == ["c1", "c2"])
        #expect(alice.clientID == "c1" && bob.clientID == "c2")
    }

    @Test("Data from one client goes to every other client, not back to the sender")
    func spreads() throws {
        let factory = makeFactory()
        let (alice, aliceTransport) = try connect(factory, as: Spreader.self)
        let (_, bobTransport) = try connect(factory, as: Spreader.self)
        let (_, carolTransport) = try connect(factory, as: Spreader.self)
        for transport in [aliceTransport, bobTransport, carolTransport] { transport.clear() }
        alice.receive("hi all")
        #expect(aliceTransport.value().isEmpty)
        #expect(bobTransport.valueString == "hi all")
        #expect(carolTransport.valueString == "hi all")
    }

    @Test("close closes the sender's connection and unregisters it; the count keeps numbering")
    func close() throws {
        let factory = makeFactory()
        let (alice, aliceTransport) = try connect(factory, as: Spreader.self)
        let (bob, bobTransport) = try connect(factory, as: Spreader.self)
        bobTransport.clear()
        alice.receive("close\r\n")
        #expect(aliceTransport.disconnecting)
        #expect(bobTransport.value().isEmpty)
        #expect(factory.clients.map(\.clientID) == ["c2"])
        bob.receive("anyone?")
        #expect(aliceTransport.valueString.hasSuffix("number 1!\n"))
        let (_, carolTransport) = try connect(factory, as: Spreader.self)
        #expect(carolTransport.valueString == "Welcome to Torsion World, you are client number 3!\n")
        #expect(factory.numProtocols == 3)
    }

    @Test(
        "close is recognised alone or with a line ending; other text containing it is spread",
        arguments: [
            ("close", true), ("close\n", true), ("close\r\n", true), ("closed", false), ("close it", false),
        ])
    func closeCommand(text: String, closes: Bool) throws {
        let factory = makeFactory()
        let (alice, aliceTransport) = try connect(factory, as: Spreader.self)
        let (_, bobTransport) = try connect(factory, as: Spreader.self)
        bobTransport.clear()
        alice.receive(text)
        #expect(aliceTransport.disconnecting == closes)
        #expect(bobTransport.valueString == (closes ? "" : text))
    }

    @Test("The default client id is 8 lowercase letters or digits")
    func randomClientID() {
        let id = SpreaderExample.SpreadFactory.randomClientID()
        #expect(id.count == 8)
        #expect(id.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) })
    }

    @Test("Two clients talk through the server: each message is answered with a hello 5 seconds later")
    func clientsThroughServer() throws {
        let reactor = MemoryReactorClock()
        let server = makeFactory()
        let aliceFactory = SpreaderExample.EchoClientFactory(name: "Alice", reactor: reactor)
        let bobFactory = SpreaderExample.EchoClientFactory(name: "Bob", reactor: reactor)
        let (alice, _, alicePump) = try connectedPair(
            server: try build(server, as: Spreader.self),
            client: try build(aliceFactory, as: SpreaderExample.Echo.self), clock: reactor.clock)
        let (bob, _, bobPump) = try connectedPair(
            server: try build(server, as: Spreader.self),
            client: try build(bobFactory, as: SpreaderExample.Echo.self), clock: reactor.clock)
        #expect(aliceFactory.client === alice && bobFactory.client === bob)
        #expect(alice.lastText == "Welcome to Torsion World, you are client number 1!\n")
        #expect(bob.lastText == "Welcome to Torsion World, you are client number 2!\n")
        #expect(alice.messageCount == 1 && bob.messageCount == 1)

        // Each welcome schedules a hello 5 seconds later.
        reactor.advance(4.5)
        try alicePump.flush()
        try bobPump.flush()
        #expect(alice.messageCount == 1)
        reactor.advance(0.5)
        // Each hello travels client -> server on its own pump, then
        // server -> other client on the other pump.
        try alicePump.flush()
        try bobPump.flush()
        try alicePump.flush()
        #expect(bob.lastText == "hello, I'm Alice at 5.0")
        #expect(alice.lastText == "hello, I'm Bob at 5.0")
        #expect(alice.messageCount == 2 && bob.messageCount == 2)
        #expect(reactor.getDelayedCalls().count == 2)
    }

    @Test("sayHello writes only while connected, and losing the connection cancels pending hellos")
    func clientCancelsOnLost() throws {
        let reactor = MemoryReactorClock()
        let echo = SpreaderExample.Echo(name: "Alice", reactor: reactor)
        let transport = StringTransportWithDisconnection(protocol: echo)
        echo.makeConnection(transport)
        echo.receive("one")
        echo.receive("two")
        #expect(reactor.getDelayedCalls().count == 2)
        reactor.advance(2)
        echo.sayHello()
        #expect(transport.valueString == "hello, I'm Alice at 2.0")
        transport.loseConnection()
        #expect(reactor.getDelayedCalls().isEmpty)
        reactor.advance(10)
        echo.sayHello()
        #expect(transport.valueString == "hello, I'm Alice at 2.0")
    }

    @Test("The client factory gives its clients its hello interval and reports what the seed prints")
    func clientFactoryIntervalAndReport() throws {
        let reactor = MemoryReactorClock()
        try reactor.run()
        let factory = SpreaderExample.EchoClientFactory(name: "Ann", reactor: reactor, interval: 2)
        var lines: [String] = []
        factory.report = { lines.append($0) }
        let connector = try #require(
            reactor.connectTCP(host: "127.0.0.1", port: 8006, factory: factory, timeout: 30, bindAddress: nil)
                as? MemoryConnector)
        let echo = try #require(try connector.completeConnection() as? SpreaderExample.Echo)
        let transport = try #require(connector.transport)
        echo.receive("hi")
        reactor.advance(1.5)
        #expect(transport.value().isEmpty)
        reactor.advance(0.5)
        #expect(transport.valueString == "hello, I'm Ann at 2.0")
        try connector.connectionLost()
        #expect(
            lines == [
                "started to connect.", "Connected to the server!", "got messages: hi",
                "Disconnected from the server!",
                "Lost connection. Reason: \(try #require(factory.endReason).errorMessage)",
            ])
    }

    @Test("The client factory counts attempts and records how the connection ended")
    func clientFactoryEvents() throws {
        let reactor = MemoryReactorClock()
        try reactor.run()
        let factory = SpreaderExample.EchoClientFactory(name: "Bob", reactor: reactor)
        let connector = try #require(
            reactor.connectTCP(host: "127.0.0.1", port: 8006, factory: factory, timeout: 30, bindAddress: nil)
                as? MemoryConnector)
        #expect(factory.connectionAttempts == 1)
        try connector.completeConnection()
        try connector.connectionLost()
        #expect(factory.endReason?.check(ConnectionDone.self) != nil)
        connector.connect()
        #expect(factory.connectionAttempts == 2)
        try connector.connectionFailed(reason: ConnectionRefused())
        #expect(factory.endReason?.check(ConnectionRefused.self) != nil)
    }
}

extension SpreaderExample.Echo {
    /// The latest chunk received, as text.
    var lastText: String? { lastMessage.map { String(decoding: $0, as: UTF8.self) } }
}
