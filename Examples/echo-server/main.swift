// Seed 003, Example 2-1 (echoserver.py): echoes whatever each client sends.
import SeedExamples

ExampleCommandLine.serve("echo-server", defaultPort: EchoExample.defaultPort) { reactor, port, _ in
    try EchoExample.runServer(reactor: reactor, port: port)
}
