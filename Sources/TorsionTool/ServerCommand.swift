import ArgumentParser
import Glibc
import Torsion

/// What a reactor must offer to run a server command: the loop, and
/// listening on TCP and UNIX endpoints (``Reactor`` in a program, a
/// `MemoryReactor` in tests).
public typealias ServerReactor = ReactorCore & ReactorTCP & ReactorUNIX

/// The options of every server command: the endpoints to listen on, and
/// the global ``GlobalOptions``.
public struct ServerOptions: ParsableArguments {
    /// The endpoint descriptions, in the order given, in the grammar of
    /// `serverFromString` (`tcp:PORT[:interface=…]`, `tcp6:…`,
    /// `unix:PATH[:mode=…]`). At least one is required.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "An endpoint to listen on, e.g. tcp:8000, tcp:0:interface=127.0.0.1, unix:/tmp/torsion.sock; "
                + "repeat to listen on several.",
            valueName: "endpoint"))
    public var listen: [String]

    /// `--reactor`, accepted after the subcommand name too.
    @OptionGroup public var global: GlobalOptions

    /// Makes empty options; ArgumentParser decodes them.
    public init() {}

    /// Checks the backend (`--reactor` or `TORSION_REACTOR`) before
    /// anything runs, so a bad name is a usage error of the subcommand.
    public func validate() throws {
        _ = try global.backend()
    }
}

/// A `torsion` subcommand that serves one factory on every `--listen`
/// endpoint until the reactor stops: `echo`, `qotd`, `finger`, `chat`.
///
/// A conforming command only says what it serves (``makeFactory()``);
/// listening, reporting, signal handling and shutdown are shared here.
public protocol ServerCommand: ParsableCommand {
    /// The parsed `--listen` and `--reactor` options.
    var server: ServerOptions { get }

    /// Builds the factory shared by every endpoint of one run (so that,
    /// for example, chat users on TCP and on a UNIX socket see each other).
    /// Reactor thread only.
    ///
    /// - Throws: `ValidationError` for options that cannot make a factory.
    func makeFactory() throws -> Factory
}

extension ServerCommand {
    /// The name printed in the listening line: the subcommand's name.
    public static var serviceName: String { configuration.commandName ?? _commandName }

    /// Runs the server as the `torsion` process does: on the backend chosen
    /// by `--reactor` / `TORSION_REACTOR`, with SIGINT and SIGTERM turned
    /// into a clean ``Reactor/stop()``, reporting on standard error.
    /// Returns (exit status 0) once the reactor has shut down.
    ///
    /// - Throws: `ValidationError` for a bad backend or endpoint (usage
    ///   error), ``ListenFailedError`` when an endpoint cannot listen, and
    ///   the reactor's own errors.
    public func run() throws {
        let backend = try server.global.backend()
        unblockShutdownSignals()
        let reactor = try Reactor(backend: backend, handlesSignals: true)
        try serve(on: reactor, reactorName: backend.rawValue, report: writeLineToStandardError)
    }

    /// Runs the server on `reactor` until it stops: the testable core of
    /// ``run()``. Makes the factory, listens on each endpoint in the order
    /// given, reporting each with one line
    /// `torsion: NAME listening on ADDRESS (reactor: REACTOR)` through
    /// `report`, then calls `onListening` with the ports. Stopping the
    /// reactor stops listening (a `before shutdown` trigger); established
    /// connections are closed by the reactor's shutdown.
    ///
    /// If an endpoint cannot listen, the ports opened so far are closed,
    /// the reactor is stopped and this throws ``ListenFailedError`` once
    /// `run()` has returned. Reactor thread only (it runs the reactor).
    ///
    /// - Throws: `ValidationError` for options that make no factory or an
    ///   endpoint description that does not parse (both before the reactor
    ///   runs), ``ListenFailedError``, and whatever `reactor.run()` throws.
    public func serve(
        on reactor: any ServerReactor,
        reactorName: String,
        report: @escaping (String) -> Void,
        onListening: @escaping ([any ListeningPort]) -> Void = { _ in }
    ) throws {
        let factory = try makeFactory()
        let session = try ServerSession(
            serviceName: Self.serviceName, reactorName: reactorName, descriptions: server.listen, reactor: reactor,
            report: report)
        reactor.addSystemEventTrigger(.before, .shutdown) { session.stopListening() }
        reactor.callWhenRunning {
            session.listen(factory).addCallbacks(
                { ports in onListening(ports) },
                { failure in
                    session.failure = failure
                    try? reactor.stop()
                })
        }
        try reactor.run()
        if let failure = session.failure { throw failure.error }
    }
}

/// An endpoint given to `--listen` could not listen (address in use,
/// permission denied, …); the server did not start.
public struct ListenFailedError: Error, CustomStringConvertible {
    /// The endpoint description as given.
    public let endpoint: String
    /// Why listening failed, usually a ``CannotListenError``.
    public let reason: Failure

    /// Makes the error for `endpoint`.
    public init(endpoint: String, reason: Failure) {
        self.endpoint = endpoint
        self.reason = reason
    }

    /// Names the endpoint and the reason.
    public var description: String { "cannot listen on \"\(endpoint)\": \(reason.errorMessage)" }
}

/// Unblocks SIGINT and SIGTERM on the calling thread, which becomes the
/// reactor thread. A process inherits its parent's signal mask, and a
/// parent that spawns from a thread blocking every signal (Foundation's
/// `Process` on Linux does) would leave the reactor's handlers installed
/// but never called: the server would ignore SIGTERM. Threads started
/// later by the reactor inherit the unblocked mask.
func unblockShutdownSignals() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGINT)
    sigaddset(&signals, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
}

/// Writes `line` and a newline to standard error in one `write(2)`, so
/// that lines from one process never interleave; a failed write is
/// ignored, as there is nowhere left to report it.
func writeLineToStandardError(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(0x0A)
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if result < 0 && errno == EINTR { continue }
        guard result > 0 else { return }
        written += result
    }
}

/// Formats a listening address for the listening line: `HOST:PORT` for
/// IPv4, `[HOST]:PORT` for IPv6, the path for a UNIX socket (`@name` in
/// the abstract namespace); anything else as it describes itself.
public func listeningAddressText(_ address: any Address) -> String {
    switch address {
    case let ipv4 as IPv4Address: "\(ipv4.host):\(ipv4.port)"
    case let ipv6 as IPv6Address: "[\(ipv6.host)]:\(ipv6.port)"
    case let unix as UNIXAddress:
        if unix.isAbstract, let name = unix.name { "@" + name.dropFirst() } else { unix.name ?? "(unnamed)" }
    default: address.description
    }
}

/// One run of a server command: the parsed endpoints, the ports listening
/// so far, and why the run failed, if it did. Reactor thread only.
final class ServerSession {
    private let serviceName: String
    private let reactorName: String
    private let endpoints: [(description: String, endpoint: any StreamServerEndpoint)]
    private let report: (String) -> Void
    /// The ports listening, in `--listen` order.
    private(set) var ports: [any ListeningPort] = []
    /// Why listening failed; the reactor was stopped.
    var failure: Failure?

    /// Parses every description with `serverFromString`.
    ///
    /// - Throws: `ValidationError` naming the first description that does
    ///   not parse, with the reason.
    init(
        serviceName: String, reactorName: String, descriptions: [String], reactor: any ServerReactor,
        report: @escaping (String) -> Void
    ) throws {
        self.serviceName = serviceName
        self.reactorName = reactorName
        self.report = report
        endpoints = try descriptions.map { description in
            do {
                return (description, try serverFromString(reactor, description))
            } catch {
                throw ValidationError("--listen \"\(description)\": \(error)")
            }
        }
    }

    /// Listens on each endpoint in turn with `factory`, reporting each
    /// port as it listens. Fires with every port, or fails with the
    /// ``ListenFailedError`` of the first endpoint that could not listen
    /// (the earlier ports stay open until ``stopListening()``).
    func listen(_ factory: Factory) -> Deferred<[any ListeningPort]> {
        listen(factory, from: 0).addCallback { [self] in ports }
    }

    private func listen(_ factory: Factory, from index: Int) -> Deferred<Void> {
        guard index < endpoints.count else { return succeed(()) }
        let (description, endpoint) = endpoints[index]
        return endpoint.listen(factory)
            .addErrback { (failure: Failure) throws -> any ListeningPort in
                throw ListenFailedError(endpoint: description, reason: failure)
            }
            .addCallback { [self] (port: any ListeningPort) -> Deferred<Void> in
                ports.append(port)
                report(
                    "torsion: \(serviceName) listening on \(listeningAddressText(port.host)) (reactor: \(reactorName))")
                return listen(factory, from: index + 1)
            }
    }

    /// Stops every port; fires once all have stopped (a port that fails to
    /// stop does not hold up shutdown).
    func stopListening() -> Deferred<Void> {
        let stopping = ports.map { $0.stopListening() }
        ports.removeAll()
        return DeferredList(stopping, consumeErrors: true).addCallback { _ in () }
    }
}
