import ArgumentParser
import SeedExamples
import Testing
import Torsion
import TorsionTool

/// Parses `arguments` as the `torsion` command line and returns the
/// subcommand, which must be a `Command`.
func parse<Command: ParsableCommand>(
    _ arguments: [String], as type: Command.Type, sourceLocation: SourceLocation = #_sourceLocation
) throws -> Command {
    let parsed = try TorsionCommand.parseAsRoot(arguments)
    return try #require(parsed as? Command, "parsed as \(Swift.type(of: parsed))", sourceLocation: sourceLocation)
}

/// The message and exit code the tool would print and exit with for the
/// error that parsing `arguments` throws.
func usageFailure(_ arguments: [String]) -> (message: String, exitCode: Int32)? {
    do {
        _ = try TorsionCommand.parseAsRoot(arguments)
        return nil
    } catch {
        return (TorsionCommand.fullMessage(for: error), TorsionCommand.exitCode(for: error).rawValue)
    }
}

/// The message and exit code for the error that running the parsed
/// `arguments` throws, `nil` if it runs without error.
func runFailure(_ arguments: [String]) -> (message: String, exitCode: Int32)? {
    do {
        var command = try TorsionCommand.parseAsRoot(arguments)
        try command.run()
        return nil
    } catch {
        return (TorsionCommand.fullMessage(for: error), TorsionCommand.exitCode(for: error).rawValue)
    }
}

@Suite("torsion command line")
struct ArgumentParsingTests {
    @Test("--listen may be repeated and keeps the order given")
    func repeatedListen() throws {
        let echo = try parse(["echo", "--listen", "tcp:0", "--listen", "unix:@torsion-test"], as: EchoCommand.self)
        #expect(echo.server.listen == ["tcp:0", "unix:@torsion-test"])
        #expect(echo.server.global.reactor == nil)
    }

    @Test("--reactor is accepted before and after the subcommand name")
    func globalReactorOption() throws {
        let before = try parse(["--reactor", "poll", "echo", "--listen", "tcp:0"], as: EchoCommand.self)
        #expect(before.server.global.reactor == "poll")
        #expect(try before.server.global.backend() == .poll)
        let after = try parse(["chat", "--listen", "tcp:0", "--reactor", "select"], as: ChatCommand.self)
        #expect(try after.server.global.backend() == .select)
    }

    @Test("--reactor wins over TORSION_REACTOR, which wins over the default")
    func backendPrecedence() throws {
        let unset = try GlobalOptions.parse([])
        #expect(try unset.backend(environment: [:]) == Backend.best)
        #expect(try unset.backend(environment: ["TORSION_REACTOR": "poll"]) == .poll)
        #expect(try unset.backend(environment: ["TORSION_REACTOR": ""]) == Backend.best)
        let named = try GlobalOptions.parse(["--reactor", "select"])
        #expect(try named.backend(environment: ["TORSION_REACTOR": "poll"]) == .select)
    }

    @Test("an unknown or unavailable backend is an error naming it and listing every choice")
    func badBackend() throws {
        var options = try GlobalOptions.parse(["--reactor", "kqueue"])
        let unknown = try #require(throws: ValidationError.self) { try options.backend(environment: [:]) }
        #expect(unknown.message.contains("\"kqueue\""))
        for backend in Backend.allCases { #expect(unknown.message.contains(backend.rawValue)) }
        options.reactor = nil
        let fromEnvironment = try #require(throws: ValidationError.self) {
            try options.backend(environment: ["TORSION_REACTOR": "kqueue"])
        }
        #expect(fromEnvironment.message.hasPrefix("TORSION_REACTOR: "))
        if let unavailable = Backend.allCases.first(where: { $0.availability != .available }) {
            options.reactor = unavailable.rawValue
            let error = try #require(throws: ValidationError.self) { try options.backend(environment: [:]) }
            #expect(error.message.contains("unavailable"))
        }
    }

    @Test("a bad --reactor on a server command is a usage error with a non-zero exit")
    func badBackendOnServerCommand() throws {
        let failure = try #require(usageFailure(["echo", "--listen", "tcp:0", "--reactor", "kqueue"]))
        #expect(failure.exitCode != 0)
        #expect(failure.message.contains("unknown reactor backend \"kqueue\""))
        #expect(failure.message.contains("Usage: torsion echo"))
    }

    @Test("torsion without a subcommand is a usage error naming the subcommands")
    func missingSubcommand() throws {
        #expect(usageFailure([]) == nil, "parsing alone accepts an empty command line")
        let failure = try #require(runFailure([]))
        #expect(failure.exitCode != 0)
        #expect(failure.message.contains("backends, bench, echo, qotd, finger, chat"))
    }

    @Test("a server command without --listen is a usage error")
    func missingListen() throws {
        for command in ["echo", "qotd", "finger", "chat"] {
            let failure = try #require(usageFailure([command]), "\(command) parsed without --listen")
            #expect(failure.exitCode != 0)
            #expect(failure.message.contains("--listen"))
        }
    }

    @Test("unknown options, unknown subcommands and missing values are usage errors")
    func malformedCommandLines() throws {
        for arguments in [
            ["echo", "--listen", "tcp:0", "--bogus"], ["serve"], ["echo", "--listen"],
            ["qotd", "--listen", "tcp:0", "--quote"],
        ] {
            let failure = try #require(usageFailure(arguments), "\(arguments) parsed")
            #expect(failure.exitCode != 0, "\(arguments)")
        }
    }

    @Test("qotd takes an optional --quote and refuses line breaks in it")
    func quoteOption() throws {
        #expect(try parse(["qotd", "--listen", "tcp:0"], as: QOTDCommand.self).quote == nil)
        let qotd = try parse(["qotd", "--listen", "tcp:0", "--quote", "Carpe diem"], as: QOTDCommand.self)
        #expect((qotd.makeFactory() as? QOTDFactory)?.quote == "Carpe diem")
        let failure = try #require(usageFailure(["qotd", "--listen", "tcp:0", "--quote", "a\r\nb"]))
        #expect(failure.exitCode != 0)
    }

    @Test("finger's repeated --user NAME=STATUS entries become its user table")
    func userEntries() throws {
        let finger = try parse(
            [
                "finger", "--listen", "tcp:0", "--user", "moshez=Happy and well", "--user", "alice=a=b", "--user",
                "bob=",
            ],
            as: FingerCommand.self)
        #expect(try finger.users() == ["moshez": "Happy and well", "alice": "a=b", "bob": ""])
        let factory = try #require(try finger.makeFactory() as? FingerExample.FingerFactory)
        #expect(factory.users == ["moshez": "Happy and well", "alice": "a=b", "bob": ""])
    }

    @Test("a malformed or repeated --user is a usage error naming the entry")
    func badUserEntries() throws {
        for (entry, problem) in [("bob", "expected NAME=STATUS"), ("=away", "the name is empty")] {
            let failure = try #require(usageFailure(["finger", "--listen", "tcp:0", "--user", entry]))
            #expect(failure.exitCode != 0)
            #expect(failure.message.contains("\"\(entry)\""))
            #expect(failure.message.contains(problem))
        }
        let repeated = try #require(
            usageFailure(["finger", "--listen", "tcp:0", "--user", "bob=in", "--user", "bob=out"]))
        #expect(repeated.message.contains("\"bob\" is given more than once"))
    }

    @Test("each server command builds the factory of its service")
    func factories() throws {
        let echo = try parse(["echo", "--listen", "tcp:0"], as: EchoCommand.self).makeFactory()
        #expect(echo.buildProtocol(address: IPv4Address(host: "127.0.0.1", port: 1)) is Echo)
        let qotd = try parse(["qotd", "--listen", "tcp:0"], as: QOTDCommand.self).makeFactory()
        #expect((qotd as? QOTDFactory)?.quote == QOTDFactory.defaultQuote)
        let chat = try parse(["chat", "--listen", "tcp:0"], as: ChatCommand.self).makeFactory()
        #expect(chat is ChatExample.ChatFactory)
    }
}

@Suite("torsion backends")
struct BackendsCommandTests {
    @Test("lists one line per backend: NAME  available or NAME  unavailable: REASON")
    func listing() throws {
        let lines = BackendsCommand.listing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == Backend.allCases.count)
        for (line, backend) in zip(lines, Backend.allCases) {
            switch backend.availability {
            case .available:
                #expect(line == "\(backend.rawValue)  available")
            case .unavailable(let reason):
                #expect(!reason.isEmpty)
                #expect(line == "\(backend.rawValue)  unavailable: \(reason)")
            }
        }
        #expect(lines.contains("epoll  available"))
    }

    @Test("parses with or without --reactor")
    func parsing() throws {
        _ = try parse(["backends"], as: BackendsCommand.self)
        _ = try parse(["backends", "--reactor", "poll"], as: BackendsCommand.self)
        #expect(usageFailure(["backends", "extra"]) != nil)
    }
}
