// Seed 001, the finger tutorial in its Deferred form: one user name in, the
// user's status or "No such user" out, then close.
import SeedExamples

ExampleCommandLine.serve(
    "finger-server", usage: "[PORT] [NAME=STATUS...]", defaultPort: FingerExample.defaultPort, maxExtra: .max
) { reactor, port, extra in
    let factory = FingerExample.FingerFactory(users: try FingerExample.users(from: extra))
    return try FingerExample.runServer(reactor: reactor, port: port, factory: factory)
}
