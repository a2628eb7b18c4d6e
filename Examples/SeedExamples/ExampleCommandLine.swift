import TorsionCore
import TorsionPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared shape of the seed examples' programs (`swift run NAME`): the
/// arguments, the reactor on the backend named by `TORSION_REACTOR`, one
/// line saying where a server listens, and an exit status. Each program's
/// own logic is an entry point of its example (`EchoExample.runServer`,
/// ...), which the tests drive over loopback, so a program's `main.swift`
/// is only a call to ``serve(_:usage:defaultPort:maxExtra:arguments:listen:)``
/// or ``connect(_:usage:defaultHost:defaultPort:leading:arguments:start:)``.
///
/// Main thread only: the reactor runs on the thread that calls these.
public enum ExampleCommandLine {
    /// Why a program's arguments were refused; printed with its usage.
    public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong with the arguments.
        public let problem: String

        /// Makes the error saying `problem`.
        public init(_ problem: String) { self.problem = problem }

        /// The problem, as printed before the usage line.
        public var description: String { problem }
    }

    /// Parses a TCP port argument: a whole number from 0 to 65535.
    ///
    /// - Throws: ``UsageError`` naming the argument otherwise.
    public static func parsePort(_ text: String) throws(UsageError) -> Int {
        guard let port = Int(text), (0...65535).contains(port) else {
            throw UsageError("invalid port \"\(text)\": expected a number from 0 to 65535")
        }
        return port
    }

    /// Parses a limit argument (a connection count, say): a whole number
    /// of at least 1.
    ///
    /// - Throws: ``UsageError`` naming the argument otherwise.
    public static func parseLimit(_ text: String) throws(UsageError) -> Int {
        guard let limit = Int(text), limit >= 1 else {
            throw UsageError("invalid limit \"\(text)\": expected a whole number of at least 1")
        }
        return limit
    }

    /// Runs a server program: `NAME [PORT] [EXTRA...]`, at most `maxExtra`
    /// extra arguments. Makes the reactor (SIGINT and SIGTERM stop it
    /// cleanly), calls `listen` with the port (`defaultPort` when absent)
    /// and the extra arguments, prints `NAME: listening on ADDRESS
    /// (reactor: BACKEND)` and runs until stopped. Exits 0 after a clean
    /// stop, 2 on bad arguments, 1 on any other error.
    public static func serve(
        _ name: String, usage: String = "[PORT]", defaultPort: Int, maxExtra: Int = 0,
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        listen: (_ reactor: Reactor, _ port: Int, _ extra: [String]) throws -> any ListeningPort
    ) -> Never {
        exitAfter(name, usage: usage) {
            guard arguments.count - 1 <= maxExtra else { throw UsageError("too many arguments") }
            let port = try arguments.first.map(parsePort) ?? defaultPort
            let reactor = try makeReactor()
            let listening = try listen(reactor, port, Array(arguments.dropFirst()))
            say("\(name): listening on \(listening.host) (reactor: \(reactor.backend))")
            try reactor.run()
        }
    }

    /// Runs a client program: `NAME LEADING... [HOST] [PORT]`. The first
    /// `leading` arguments are required (a client's name, say); the host
    /// and port default to `defaultHost` and `defaultPort`. Makes the
    /// reactor, prints `NAME: connecting to HOST:PORT (reactor: BACKEND)`,
    /// calls `start` (which connects and arranges how the reactor stops),
    /// runs the reactor, then prints what `start`'s returned function
    /// reports. Exit statuses as
    /// ``serve(_:usage:defaultPort:maxExtra:arguments:listen:)``.
    public static func connect(
        _ name: String, usage: String = "[HOST] [PORT]", defaultHost: String, defaultPort: Int,
        leading: Int = 0, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        start:
            (_ reactor: Reactor, _ host: String, _ port: Int, _ leading: [String]) throws -> () -> [String]
    ) -> Never {
        exitAfter(name, usage: usage) {
            guard arguments.count >= leading, arguments.count <= leading + 2 else {
                throw UsageError("expected \(usage)")
            }
            let rest = arguments.dropFirst(leading)
            let host = rest.first ?? defaultHost
            let port = try rest.dropFirst().first.map(parsePort) ?? defaultPort
            let reactor = try makeReactor()
            say("\(name): connecting to \(host):\(port) (reactor: \(reactor.backend))")
            let summary = try start(reactor, host, port, Array(arguments.prefix(leading)))
            try reactor.run()
            for line in summary() { say(line) }
        }
    }

    /// The reactor of a program: the backend from `TORSION_REACTOR` (the
    /// best available when unset), SIGINT/SIGTERM turned into `stop()`.
    ///
    /// - Throws: ``UnknownBackendError`` or ``BackendUnavailableError`` for
    ///   a bad `TORSION_REACTOR`, never falling back to another backend.
    public static func makeReactor() throws -> Reactor {
        try Reactor(backend: Backend.fromEnvironment(), handlesSignals: true)
    }

    /// Prints `line` on standard output at once, even when it is a pipe,
    /// so that whoever started the program can wait for it.
    public static func say(_ line: String) {
        writeAll(STDOUT_FILENO, line + "\n")
    }

    private static func exitAfter(_ name: String, usage: String, _ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let error as UsageError {
            complain("\(name): \(error)\nusage: \(name) \(usage)")
            exit(2)
        } catch {
            complain("\(name): \(error)")
            exit(1)
        }
    }

    private static func complain(_ text: String) {
        writeAll(STDERR_FILENO, text + "\n")
    }

    /// Writes `text` unbuffered; a closed or broken stream is not an error
    /// worth dying for in an example, so short writes just stop.
    private static func writeAll(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}
