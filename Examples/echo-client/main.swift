// Seed 003, Example 2-2 (echoclient.py): sends "Hello,world!", prints the
// echo, closes, and stops when the connection is over.
import SeedExamples

ExampleCommandLine.connect("echo-client", defaultHost: "127.0.0.1", defaultPort: EchoExample.defaultPort) {
    reactor, host, port, _ in
    let factory = EchoExample.runClient(reactor: reactor, host: host, port: port)
    return { EchoExample.clientReport(factory) }
}
