import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("quote-server and quote-client over loopback TCP")
struct QuoteLoopbackTests {
    @Test("Three quote-clients each get the quote held before theirs; the last one done stops the reactor")
    func clientsAndServer() throws {
        let reactor = try makeLoopbackReactor()
        let server = QuoteExample.QuoteFactory()
        let listening = try QuoteExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1", factory: server)
        stopListeningAtShutdown(listening, reactor)
        let clients = QuoteExample.runClients(reactor: reactor, host: "127.0.0.1", port: try boundPort(listening))
        try runCheckingLeaks(reactor)

        // The server answers each message with the quote it holds, then
        // keeps the message: whatever order the clients came in, they
        // received the first quote and all but one of theirs, and the
        // server holds the last.
        let received = clients.compactMap { $0.receivedQuote.map { String(decoding: $0, as: UTF8.self) } }
        #expect(received.count == 3)
        #expect(received.contains("Hello world"))
        #expect(
            (received + [String(decoding: server.quote, as: UTF8.self)]).sorted()
                == (["Hello world"] + QuoteExample.defaultQuotes).sorted())
        for client in clients {
            #expect(client.endReason?.check(ConnectionDone.self) != nil)
            #expect(client.receivedQuote.map { String(decoding: $0, as: UTF8.self) } != client.quote)
        }
        #expect(clients.first?.counter.remaining == 0)
        #expect(clients.first?.counter.stopError == nil)
        let report = QuoteExample.clientReport(clients)
        #expect(report.count == 6)
        #expect(report.filter { $0.hasPrefix("Received quote: ") }.count == 3)
        #expect(report.filter { $0.hasPrefix("conn lose: ") }.count == 3)
    }
}
