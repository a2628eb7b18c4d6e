// Seed 003, Example 2-5: the line-based chat server.
import SeedExamples

ExampleCommandLine.serve("chat-server", defaultPort: ChatExample.defaultPort) { reactor, port, _ in
    try ChatExample.runServer(reactor: reactor, port: port)
}
