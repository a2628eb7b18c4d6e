/// The umbrella module: `import Torsion` brings in everything an
/// application needs to run a server or client on a real event loop.
///
/// - `TorsionCore`: `Deferred`, `Failure`, `Protocol` / `Factory`, the
///   IReactor protocols, addresses and connection errors.
/// - `TorsionProtocols`: line and length-prefixed receivers, connection
///   policies, `Echo` / `Discard` / `QOTD`, endpoint strings
///   (`serverFromString`, `clientFromString`).
/// - `TorsionPosix`: the running `Reactor` and `Backend` selection
///   (`Reactor(backend:)`, `Backend.fromEnvironment()` reading
///   `TORSION_REACTOR`).
///
/// Libraries that only define protocols should import `TorsionCore` (and
/// `TorsionProtocols`) instead, so they stay free of the system layer;
/// tests add `TorsionTesting`.
@_exported import TorsionCore
@_exported import TorsionPosix
@_exported import TorsionProtocols
