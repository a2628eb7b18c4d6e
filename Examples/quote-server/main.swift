// Seed 003, Example 2-3: answers each message with the quote it holds, then
// keeps the message as the next quote.
import SeedExamples

ExampleCommandLine.serve("quote-server", defaultPort: QuoteExample.defaultPort) { reactor, port, _ in
    try QuoteExample.runServer(reactor: reactor, port: port)
}
