import ArgumentParser
import Torsion

/// The `torsion` command: Twisted's `twist` for Torsion. It lists the
/// event loops (`torsion backends`) and runs the small servers of the seed
/// write-ups on any endpoint and any loop (`torsion echo --listen tcp:8000`).
///
/// Parsing and validation run on the calling thread; a server command then
/// makes that thread its reactor's thread until the reactor stops.
public struct TorsionCommand: ParsableCommand {
    /// The subcommands and the help text.
    public static let configuration = CommandConfiguration(
        commandName: "torsion",
        abstract: "Run Torsion's example servers on the event loop of your choice.",
        discussion: """
            Every server command listens on each --listen endpoint (repeatable) until \
            SIGINT or SIGTERM, then shuts down cleanly and exits 0. The event loop comes \
            from --reactor, else \(Backend.environmentVariable), else the best available.
            """,
        subcommands: [
            BackendsCommand.self, BenchCommand.self, EchoCommand.self, QOTDCommand.self, FingerCommand.self, ChatCommand.self,
        ]
    )

    /// `--reactor` given before the subcommand name.
    @OptionGroup public var global: GlobalOptions

    /// Makes the command with no options set; ArgumentParser decodes it.
    public init() {}

    /// Runs when no subcommand is named: a usage error (exit status 64),
    /// as `twist` without a plugin, rather than help with status 0, so a
    /// script that lost its subcommand fails visibly.
    public func run() throws {
        throw ValidationError(
            "name a subcommand: "
                + Self.configuration.subcommands.map { $0._commandName }.joined(separator: ", "))
    }
}

/// The options every command accepts, before or after the subcommand
/// name: which event loop to run on.
public struct GlobalOptions: ParsableArguments {
    /// The backend named on the command line, if any; checked by
    /// ``backend(environment:)``, never silently replaced.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The event loop: \(Backend.allCases.map(\.rawValue).joined(separator: ", ")) "
                + "(default: $\(Backend.environmentVariable), else the best available).",
            valueName: "name"))
    public var reactor: String?

    /// Makes the options with no backend named; ArgumentParser decodes them.
    public init() {}

    /// The backend to run on: `--reactor` if given, else
    /// `TORSION_REACTOR` from `environment` (the process environment when
    /// `nil`), else ``Backend/best``.
    ///
    /// - Throws: a `ValidationError` naming the bad value and listing every
    ///   backend with its availability, for an unknown name or a backend
    ///   that cannot run here (the process exits non-zero with usage).
    public func backend(environment: [String: String]? = nil) throws -> Backend {
        do {
            if let reactor { return try Backend(named: reactor) }
        } catch {
            throw ValidationError("--reactor: \(error)")
        }
        do {
            return try Backend.fromEnvironment(environment)
        } catch {
            throw ValidationError("\(Backend.environmentVariable): \(error)")
        }
    }
}

/// `torsion backends`: one line per backend, `NAME  available` or
/// `NAME  unavailable: REASON`, in declaration order.
public struct BackendsCommand: ParsableCommand {
    /// The subcommand's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "backends",
        abstract: "List the event loops and whether each can run here."
    )

    /// Accepted so that `--reactor` may appear anywhere; the listing does
    /// not depend on it.
    @OptionGroup(visibility: .hidden) public var global: GlobalOptions

    /// Makes the command; ArgumentParser decodes it.
    public init() {}

    /// What the command prints, without the final newline.
    public static var listing: String { Backend.choices }

    /// Prints ``listing`` to standard output.
    public func run() {
        print(Self.listing)
    }
}
