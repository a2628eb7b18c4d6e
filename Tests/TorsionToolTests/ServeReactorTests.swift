import Glibc
import Testing
import Torsion
import TorsionTool

@testable import TorsionPosix

/// Runs `command` on `reactor` through the tool's `serve` path, under a
/// watchdog: if the reactor still runs after `limit` seconds the watchdog
/// records a failure and stops it, so a broken behaviour fails the test
/// instead of hanging the suite.
func serveUnderWatchdog<Command: ServerCommand>(
    _ command: Command, on reactor: Reactor, log: ReportLog, limit: Double = 10,
    sourceLocation: SourceLocation = #_sourceLocation,
    onListening: @escaping ([any ListeningPort]) -> Void
) throws {
    let watchdog = reactor.callLater(limit) {
        Issue.record("watchdog: the server still ran after \(limit) s", sourceLocation: sourceLocation)
        try? reactor.stop()
    }
    defer { if watchdog.isActive { try? watchdog.cancel() } }
    try command.serve(
        on: reactor, reactorName: reactor.backend.rawValue, report: log.record, onListening: onListening)
}

/// Checks that a reactor that served holds nothing afterwards: no
/// descriptor (ports and connections closed), no engine registration
/// beyond its own waker, no delayed call but the watchdog's.
func expectNothingLeft(_ reactor: Reactor, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reactor.ownedDescriptorCount == 0, "descriptors left open", sourceLocation: sourceLocation)
    #expect(reactor.getDelayedCalls().allSatisfy { !$0.isActive }, "delayed calls left", sourceLocation: sourceLocation)
}

/// Stops `reactor` once `count` calls were made to the returned function.
func stopAfter(_ count: Int, _ reactor: Reactor) -> (ScriptedClient) -> Void {
    var remaining = count
    return { _ in
        remaining -= 1
        if remaining == 0 { try? reactor.stop() }
    }
}

@Suite("Serving over loopback on a real Reactor")
struct ServeReactorTests {
    @Test("echo writes back every byte and reports its address and backend", arguments: Backend.available)
    func echo(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let command = try parse(["echo", "--listen", "tcp:0:interface=127.0.0.1"], as: EchoCommand.self)
        let log = ReportLog()
        let client = ScriptedClient(sending: "hello\r\n")
        client.expect("hello\r\n") { $0.send("wörld, no newline") }
        client.expect("wörld, no newline") { $0.transport?.loseConnection() }
        client.onLost = stopAfter(1, reactor)
        var port = 0
        try serveUnderWatchdog(command, on: reactor, log: log) { ports in
            port = portNumber(ports[0]) ?? 0
            connect(client, to: ports[0], on: reactor)
        }
        #expect(client.text == "hello\r\nwörld, no newline")
        #expect(client.pendingSteps.isEmpty)
        #expect(port != 0)
        #expect(log.lines == ["torsion: echo listening on 127.0.0.1:\(port) (reactor: \(backend.rawValue))"])
        expectNothingLeft(reactor)
    }

    @Test("qotd sends the default quote or --quote, CRLF, and closes", arguments: Backend.available)
    func qotd(backend: Backend) throws {
        for (arguments, quote) in [([], QOTDFactory.defaultQuote), (["--quote", "Carpe diem"], "Carpe diem")] {
            let reactor = try Reactor(backend: backend)
            let command = try parse(
                ["qotd", "--listen", "tcp:0:interface=127.0.0.1"] + arguments, as: QOTDCommand.self)
            let client = ScriptedClient()
            client.onLost = stopAfter(1, reactor)
            try serveUnderWatchdog(command, on: reactor, log: ReportLog()) { connect(client, to: $0[0], on: reactor) }
            #expect(client.text == quote + "\r\n")
            #expect(client.lostReason?.error is ConnectionDone)
            expectNothingLeft(reactor)
        }
    }

    @Test("finger answers a known user's status or No such user, then closes", arguments: Backend.available)
    func finger(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let command = try parse(
            ["finger", "--listen", "tcp:0:interface=127.0.0.1", "--user", "moshez=Happy and well"],
            as: FingerCommand.self)
        let known = ScriptedClient(sending: "moshez\r\n")
        let unknown = ScriptedClient(sending: "nobody\r\n")
        let stop = stopAfter(2, reactor)
        known.onLost = stop
        unknown.onLost = stop
        try serveUnderWatchdog(command, on: reactor, log: ReportLog()) { ports in
            connect(known, to: ports[0], on: reactor)
            connect(unknown, to: ports[0], on: reactor)
        }
        #expect(known.text == "Happy and well\r\n")
        #expect(unknown.text == "No such user\r\n")
        expectNothingLeft(reactor)
    }

    @Test("chat registers names, refuses a taken one, broadcasts lines, joins and leaves", arguments: Backend.available)
    func chat(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let command = try parse(["chat", "--listen", "tcp:0:interface=127.0.0.1"], as: ChatCommand.self)
        let alice = ScriptedClient()
        let bob = ScriptedClient()
        var port: (any ListeningPort)?
        alice.expect("What's your name?\r\n") { $0.send("alice\r\n") }
        alice.expect("Welcome, alice!\r\n") { _ in if let port { connect(bob, to: port, on: reactor) } }
        alice.expect("<bob> hi all\r\n") { $0.send("hello bob\r\n") }
        alice.expect("bob has left the channel.\r\n") { $0.transport?.loseConnection() }
        alice.onLost = stopAfter(1, reactor)
        bob.expect("What's your name?\r\n") { $0.send("alice\r\n") }
        bob.expect("Name taken, please choose another.\r\n") { $0.send("bob\r\n") }
        bob.expect("Welcome, bob!\r\n") { $0.send("hi all\r\n") }
        bob.expect("<alice> hello bob\r\n") { $0.transport?.loseConnection() }
        try serveUnderWatchdog(command, on: reactor, log: ReportLog()) { ports in
            port = ports[0]
            connect(alice, to: ports[0], on: reactor)
        }
        #expect(
            alice.text
                == "What's your name?\r\nWelcome, alice!\r\nbob has joined the channel.\r\n<bob> hi all\r\n"
                + "bob has left the channel.\r\n")
        #expect(
            bob.text
                == "What's your name?\r\nName taken, please choose another.\r\nWelcome, bob!\r\n<alice> hello bob\r\n")
        expectNothingLeft(reactor)
    }

    @Test("several --listen endpoints, TCP and UNIX, each get a line and serve", arguments: Backend.available)
    func severalEndpoints(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let name = "torsion-tool-test-\(getpid())-\(backend.rawValue)"
        let command = try parse(
            ["echo", "--listen", "tcp:0:interface=127.0.0.1", "--listen", "unix:@\(name)"], as: EchoCommand.self)
        let log = ReportLog()
        let overTCP = ScriptedClient(sending: "over tcp")
        let overUNIX = ScriptedClient(sending: "over unix")
        overTCP.expect("over tcp") { $0.transport?.loseConnection() }
        overUNIX.expect("over unix") { $0.transport?.loseConnection() }
        let stop = stopAfter(2, reactor)
        overTCP.onLost = stop
        overUNIX.onLost = stop
        var port = 0
        try serveUnderWatchdog(command, on: reactor, log: log) { ports in
            port = portNumber(ports[0]) ?? 0
            connect(overTCP, to: ports[0], on: reactor)
            connect(overUNIX, to: ports[1], on: reactor)
        }
        #expect(overTCP.text == "over tcp")
        #expect(overUNIX.text == "over unix")
        #expect(
            log.lines == [
                "torsion: echo listening on 127.0.0.1:\(port) (reactor: \(backend.rawValue))",
                "torsion: echo listening on @\(name) (reactor: \(backend.rawValue))",
            ])
        expectNothingLeft(reactor)
    }

    @Test("stopping the reactor with a client connected returns cleanly and closes the connection")
    func shutdownWithOpenConnection() throws {
        let reactor = try Reactor(backend: .best)
        let command = try parse(["echo", "--listen", "tcp:0:interface=127.0.0.1"], as: EchoCommand.self)
        let client = ScriptedClient(sending: "still here")
        client.expect("still here") { _ in try? reactor.stop() }
        try serveUnderWatchdog(command, on: reactor, log: ReportLog()) { connect(client, to: $0[0], on: reactor) }
        #expect(client.text == "still here")
        #expect(client.lostReason != nil)
        expectNothingLeft(reactor)
    }

    @Test("an endpoint already in use fails with ListenFailedError carrying CannotListenError")
    func portInUse() throws {
        let reactor = try Reactor(backend: .best)
        let busy = try reactor.listenTCP(0, factory: Factory.forProtocol(Echo.init), interface: "127.0.0.1")
        let taken = try #require(portNumber(busy))
        let command = try parse(
            ["echo", "--listen", "tcp:0:interface=127.0.0.1", "--listen", "tcp:\(taken):interface=127.0.0.1"],
            as: EchoCommand.self)
        let log = ReportLog()
        let error = try #require(throws: ListenFailedError.self) {
            try serveUnderWatchdog(command, on: reactor, log: log) { _ in
                Issue.record("listened on a port in use")
            }
        }
        #expect(error.endpoint == "tcp:\(taken):interface=127.0.0.1")
        #expect(error.reason.error is CannotListenError)
        #expect(log.lines.count == 1)
        busy.stopListening()
        expectNothingLeft(reactor)
    }
}
