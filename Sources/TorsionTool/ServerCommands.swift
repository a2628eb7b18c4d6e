import ArgumentParser
import SeedExamples
import Torsion

/// `torsion echo`: every byte received is written back (RFC 862; seed 003,
/// Example 2-1), with TorsionProtocols' ``Echo``.
public struct EchoCommand: ServerCommand {
    /// The subcommand's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Echo every byte back to its sender (RFC 862)."
    )

    /// `--listen` and `--reactor`.
    @OptionGroup public var server: ServerOptions

    /// Makes the command; ArgumentParser decodes it.
    public init() {}

    /// A factory of ``Echo`` protocols.
    public func makeFactory() -> Factory {
        Factory.forProtocol(Echo.init)
    }
}

/// `torsion qotd`: each connection receives the quote, CRLF, and is closed
/// (RFC 865), with TorsionProtocols' ``QOTDFactory``.
public struct QOTDCommand: ServerCommand {
    /// The subcommand's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "qotd",
        abstract: "Send a quote, CRLF, then close each connection (RFC 865)."
    )

    /// `--listen` and `--reactor`.
    @OptionGroup public var server: ServerOptions

    /// The quote; `nil` or empty sends ``QOTDFactory/defaultQuote``.
    @Option(
        name: .long,
        help: ArgumentHelp("The quote to send (default: \"\(QOTDFactory.defaultQuote)\").", valueName: "text"))
    public var quote: String?

    /// Makes the command; ArgumentParser decodes it.
    public init() {}

    /// Refuses a quote with CR or LF, which would end the one-line answer
    /// early.
    public func validate() throws {
        if let quote, quote.contains(where: \.isNewline) {
            throw ValidationError("--quote: line breaks are not allowed")
        }
    }

    /// A ``QOTDFactory`` sending ``quote``.
    public func makeFactory() -> Factory {
        QOTDFactory(quote: quote)
    }
}

/// `torsion finger`: one line in (a user name), the user's status or
/// `No such user`, CRLF, close — seed 001's Deferred-based finger server
/// (``FingerExample``).
public struct FingerCommand: ServerCommand {
    /// The subcommand's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "finger",
        abstract: "Answer a user name with its status or \"No such user\", then close."
    )

    /// `--listen` and `--reactor`.
    @OptionGroup public var server: ServerOptions

    /// The `NAME=STATUS` entries, as given.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A user and the status to answer for it; repeat for several users.", valueName: "name=status"))
    public var user: [String] = []

    /// Makes the command; ArgumentParser decodes it.
    public init() {}

    /// The users by name, parsed with ``FingerExample/parseUser(_:)``.
    ///
    /// - Throws: `ValidationError` for an entry that is not `NAME=STATUS`
    ///   or a name given twice.
    public func users() throws -> [String: String] {
        var users: [String: String] = [:]
        for entry in user {
            let parsed: (name: String, status: String)
            do {
                parsed = try FingerExample.parseUser(entry)
            } catch {
                throw ValidationError("--user: \(error)")
            }
            guard users.updateValue(parsed.status, forKey: parsed.name) == nil else {
                throw ValidationError("--user: the user \"\(parsed.name)\" is given more than once")
            }
        }
        return users
    }

    /// Checks every `--user` entry (see ``users()``).
    public func validate() throws {
        _ = try users()
    }

    /// A ``FingerExample/FingerFactory`` answering from ``users()``.
    public func makeFactory() throws -> Factory {
        FingerExample.FingerFactory(users: try users())
    }
}

/// `torsion chat`: the line-based chat room of seed 003, Example 2-5
/// (``ChatExample``): name registration, join/leave notices, every line
/// broadcast to the others as `<NAME> LINE`.
public struct ChatCommand: ServerCommand {
    /// The subcommand's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "A line-based (CRLF) chat room: pick a name, then every line goes to the others."
    )

    /// `--listen` and `--reactor`.
    @OptionGroup public var server: ServerOptions

    /// Makes the command; ArgumentParser decodes it.
    public init() {}

    /// One ``ChatExample/ChatFactory`` for every endpoint: one room.
    public func makeFactory() -> Factory {
        ChatExample.ChatFactory()
    }
}
