// Seed 002: the broadcast client (`python client.py NAME`); answers every
// message with a hello five seconds later. Runs until interrupted.
import SeedExamples

ExampleCommandLine.connect(
    "spreader-client", usage: "NAME [HOST] [PORT]", defaultHost: "127.0.0.1",
    defaultPort: SpreaderExample.defaultPort, leading: 1
) { reactor, host, port, leading in
    _ = SpreaderExample.runClient(
        reactor: reactor, name: leading[0], host: host, port: port, report: ExampleCommandLine.say)
    return { [] }
}
