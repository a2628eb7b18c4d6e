// Seed 002: the broadcast server; what one client sends goes to all the
// others, "close" disconnects the sender.
import SeedExamples

ExampleCommandLine.serve("spreader-server", defaultPort: SpreaderExample.defaultPort) { reactor, port, _ in
    try SpreaderExample.runServer(reactor: reactor, port: port)
}
