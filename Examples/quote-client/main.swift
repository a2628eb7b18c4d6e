// Seed 003, Example 2-4: three clients send a quote each, print the quote
// they get back, and the last one done stops the reactor (maybeStopReactor).
import SeedExamples

ExampleCommandLine.connect("quote-client", defaultHost: "localhost", defaultPort: QuoteExample.defaultPort) {
    reactor, host, port, _ in
    let factories = QuoteExample.runClients(reactor: reactor, host: host, port: port)
    return { QuoteExample.clientReport(factories) }
}
