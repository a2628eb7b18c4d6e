import SeedExamples
import Testing
import TorsionCore
import TorsionProtocols
import TorsionTesting

@Suite("The seed programs listen and connect where the seeds do")
struct SeedProgramDefaultsTests {
    /// Runs `runServer` with its defaults on a MemoryReactor and returns
    /// the recorded listenTCP call.
    func defaultListen(_ runServer: (MemoryReactor) throws -> any ListeningPort) throws -> MemoryReactor.TCPServer {
        let reactor = MemoryReactor()
        _ = try runServer(reactor)
        #expect(reactor.tcpServers.count == 1)
        return try #require(reactor.tcpServers.first)
    }

    @Test("Each server listens on all interfaces on the seed's port with the seed's factory")
    func serverDefaults() throws {
        let echo = try defaultListen { try EchoExample.runServer(reactor: $0) }
        #expect(echo.port == 8001 && echo.interface == "" && echo.factory is EchoExample.EchoFactory)
        let chat = try defaultListen { try ChatExample.runServer(reactor: $0) }
        #expect(chat.port == 8001 && chat.factory is ChatExample.ChatFactory)
        let qotd = try defaultListen { try QOTDExample.runServer(reactor: $0) }
        #expect(qotd.port == 8007 && (qotd.factory as? QOTDFactory)?.quote == QOTDFactory.defaultQuote)
        let limited = try defaultListen { try LimitedEchoExample.runServer(reactor: $0) }
        #expect(limited.port == 8007 && (limited.factory as? LimitedEchoExample.EchoFactory)?.maxProtocols == 100)
        let answer = try defaultListen { try AnswerExample.runServer(reactor: $0) }
        #expect(answer.port == 8007)
        #expect(answer.factory.buildProtocol(address: clientAddress) is AnswerExample.Answer)
        let finger = try defaultListen { try FingerExample.runServer(reactor: $0) }
        #expect(
            finger.port == 1079 && (finger.factory as? FingerExample.FingerFactory)?.users == FingerExample.defaultUsers
        )
        let spreader = try defaultListen { try SpreaderExample.runServer(reactor: $0) }
        #expect(spreader.port == 8006 && spreader.factory is SpreaderExample.SpreadFactory)
        let quote = try defaultListen { try QuoteExample.runServer(reactor: $0) }
        #expect(quote.port == 8080 && (quote.factory as? QuoteExample.QuoteFactory)?.quote == Array("Hello world".utf8))
    }

    @Test("A given port, interface and factory are used as given")
    func serverArguments() throws {
        let factory = ChatExample.ChatFactory()
        let chat = try defaultListen {
            try ChatExample.runServer(reactor: $0, port: 9001, interface: "127.0.0.1", factory: factory)
        }
        #expect(chat.port == 9001 && chat.interface == "127.0.0.1" && chat.factory === factory)
    }

    @Test(
        "The clients connect where the seeds do: echo to 127.0.0.1:8001, quotes to localhost:8080, spreader to 127.0.0.1:8006"
    )
    func clientDefaults() throws {
        let reactor = MemoryReactorClock()
        _ = EchoExample.runClient(reactor: reactor)
        let quotes = QuoteExample.runClients(reactor: reactor)
        _ = SpreaderExample.runClient(reactor: reactor, name: "Alice")
        let calls = reactor.tcpClients.map { "\($0.host):\($0.port)" }
        #expect(
            calls == [
                "127.0.0.1:8001", "localhost:8080", "localhost:8080", "localhost:8080", "127.0.0.1:8006",
            ])
        #expect(quotes.map(\.quote) == QuoteExample.defaultQuotes)
        #expect(quotes.allSatisfy { $0.counter === quotes[0].counter && $0.counter.remaining == 3 })
    }

    @Test("The logging server opens its log when it starts listening, and refuses to listen without one")
    func loggingOpensLog() throws {
        final class MemoryLog: LoggingExample.LogFile {
            func write(_ bytes: [UInt8]) throws {}
            func close() {}
        }
        // MemoryReactor does not start factories: the test plays the port.
        let reactor = MemoryReactor()
        let factory = LoggingExample.LogfileFactory(open: { MemoryLog() })
        factory.doStart()
        _ = try LoggingExample.runServer(reactor: reactor, port: 8007, interface: "", factory: factory)
        #expect(reactor.tcpServers.count == 1)
        #expect(factory.fp != nil)

        let failing = LoggingExample.LogfileFactory(open: {
            throw LoggingExample.LogFileError(path: "x", operation: "open", reason: "denied")
        })
        failing.doStart()
        #expect(throws: LoggingExample.LogFileError(path: "x", operation: "open", reason: "denied")) {
            try LoggingExample.runServer(reactor: reactor, port: 8007, interface: "", factory: failing)
        }
        let refused = try #require(reactor.tcpServers.last)
        #expect(refused.factory === failing)
        #expect(!refused.listeningPort.listening)
        #expect(reactor.tcpServers.first?.listeningPort.listening == true)
    }
}
