import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

@Suite("Seed 003 examples 2-3 and 2-4: quote server and clients with maybeStopReactor")
struct QuoteExampleTests {
    typealias Server = QuoteExample.QuoteProtocol
    typealias Client = QuoteExample.QuoteClientProtocol

    @Test("The server answers with its quote and keeps the message as the next quote")
    func serverSwapsQuotes() throws {
        let factory = QuoteExample.QuoteFactory()
        let (first, firstTransport) = try connect(factory, as: Server.self)
        let (second, secondTransport) = try connect(factory, as: Server.self)
        #expect(factory.numConnections == 2)
        first.receive("You snooze you lose")
        second.receive("Carpe diem")
        #expect(firstTransport.valueString == "Hello world")
        #expect(secondTransport.valueString == "You snooze you lose")
        #expect(factory.quote == Array("Carpe diem".utf8))
        firstTransport.loseConnection()
        #expect(factory.numConnections == 1)
        #expect(QuoteExample.QuoteFactory(quote: "Hi").quote == Array("Hi".utf8))
    }

    @Test("Three clients exchange quotes with the server in turn; the last one to finish stops the reactor")
    func clientsStopReactor() throws {
        let reactor = MemoryReactor()
        try reactor.run()
        let server = QuoteExample.QuoteFactory()
        let quotes = ["You snooze you lose", "The early bird gets the worm", "Carpe diem"]
        let counter = QuoteExample.QuoteCounter(reactor: reactor, count: quotes.count)
        var factories: [QuoteExample.QuoteClientFactory] = []
        for quote in quotes {
            let factory = QuoteExample.QuoteClientFactory(quote: quote, counter: counter)
            factories.append(factory)
            let connector = try #require(
                reactor.connectTCP(host: "localhost", port: 8080, factory: factory, timeout: 30, bindAddress: nil)
                    as? MemoryConnector)
            let (client, _, pump) = try connectedPair(
                server: try build(server, as: Server.self), client: try build(factory, as: Client.self))
            #expect(client.connected == false)
            #expect(pump.client.lostReason?.check(ConnectionDone.self) != nil)
            // The connection is over: the connector reports it to the factory.
            try connector.completeConnection()
            try connector.connectionLost()
        }
        let received = factories.map { $0.receivedQuote.map { String(decoding: $0, as: UTF8.self) } }
        #expect(received == ["Hello world", "You snooze you lose", "The early bird gets the worm"])
        #expect(server.quote == Array("Carpe diem".utf8))
        #expect(server.numConnections == 0)
        #expect(counter.remaining == 0)
        #expect(!reactor.running)
        #expect(counter.stopError == nil)
    }

    @Test("The reactor keeps running until every client is done; failures count too")
    func failuresCount() throws {
        let reactor = MemoryReactor()
        try reactor.run()
        let counter = QuoteExample.QuoteCounter(reactor: reactor, count: 2)
        let first = QuoteExample.QuoteClientFactory(quote: "a", counter: counter)
        let second = QuoteExample.QuoteClientFactory(quote: "b", counter: counter)
        let firstConnector = reactor.connectTCP(
            host: "localhost", port: 8080, factory: first, timeout: 30, bindAddress: nil)
        first.clientConnectionFailed(firstConnector, reason: Failure(ConnectionRefused()))
        first.clientConnectionLost(firstConnector, reason: Failure(ConnectionDone()))
        #expect(counter.remaining == 1)
        #expect(reactor.running)
        #expect(first.endReason?.check(ConnectionRefused.self) != nil)
        second.clientConnectionFailed(firstConnector, reason: Failure(ConnectionRefused()))
        #expect(!reactor.running)
        counter.maybeStopReactor()
        #expect(counter.remaining == 0)
        #expect(counter.stopError == nil)
    }

    @Test("A countdown reaching zero with the reactor stopped records ReactorNotRunning")
    func stopError() {
        let counter = QuoteExample.QuoteCounter(reactor: MemoryReactor(), count: 1)
        counter.maybeStopReactor()
        #expect(counter.stopError?.check(ReactorNotRunning.self) != nil)
    }

    @Test("The client sends its quote on connect and closes when the answer arrives")
    func clientProtocol() throws {
        let counter = QuoteExample.QuoteCounter(reactor: MemoryReactor(), count: 1)
        let factory = QuoteExample.QuoteClientFactory(quote: "Carpe diem", counter: counter)
        let (client, transport) = try connect(factory, as: Client.self)
        #expect(transport.valueString == "Carpe diem")
        client.receive("Hello world")
        #expect(factory.receivedQuote == Array("Hello world".utf8))
        #expect(transport.disconnecting)
    }
}
