// Seed 000, "Writing Servers": an echo server that turns away connections
// above a limit (100 by default) with "Too many connections, try later".
import SeedExamples

ExampleCommandLine.serve(
    "limited-echo-server", usage: "[PORT] [MAX_CONNECTIONS]", defaultPort: LimitedEchoExample.defaultPort,
    maxExtra: 1
) { reactor, port, extra in
    let limit = try extra.first.map(ExampleCommandLine.parseLimit) ?? 100
    let factory = LimitedEchoExample.EchoFactory(maxProtocols: limit)
    return try LimitedEchoExample.runServer(reactor: reactor, port: port, factory: factory)
}
