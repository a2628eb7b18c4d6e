import TorsionCore

extension QuoteExample: SeedServerExample {
    /// The port of Examples 2-3 and 2-4.
    public static let defaultPort = 8080

    /// The quotes Example 2-4 sends, one client each.
    public static let defaultQuotes = ["You snooze you lose", "The early bird gets the worm", "Carpe diem"]

    /// Example 2-3's `QuoteFactory()`, holding `Hello world`.
    public static func makeServerFactory() -> QuoteFactory { QuoteFactory() }

    /// Example 2-4's loop: one connection per quote, all at once, sharing a
    /// ``QuoteCounter`` that stops `reactor` when the last one is done
    /// (`maybeStopReactor`). Returns the factories, in the order of
    /// `quotes`, which record what each client received and how it ended.
    /// Reactor thread only.
    public static func runClients(
        reactor: any ReactorTCP & ReactorCore, host: String = "localhost", port: Int = defaultPort,
        quotes: [String] = defaultQuotes
    ) -> [QuoteClientFactory] {
        let counter = QuoteCounter(reactor: reactor, count: quotes.count)
        return quotes.map { quote in
            let factory = QuoteClientFactory(quote: quote, counter: counter)
            reactor.connectTCP(host: host, port: port, factory: factory)
            return factory
        }
    }

    /// What the seed's clients print, from what `factories` recorded:
    /// `Received quote: QUOTE` for each answer, and `conn lose: REASON` or
    /// `conn failed: REASON` for each end.
    public static func clientReport(_ factories: [QuoteClientFactory]) -> [String] {
        factories.flatMap { factory -> [String] in
            var lines: [String] = []
            if let quote = factory.receivedQuote {
                lines.append("Received quote: \(String(decoding: quote, as: UTF8.self))")
            }
            if let reason = factory.endReason {
                lines.append(endReport(reason, lost: "conn lose"))
            }
            return lines
        }
    }
}
