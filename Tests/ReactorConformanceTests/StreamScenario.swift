import Testing
import TorsionCore

@testable import TorsionPosix

/// One listening port and one client over loopback, the shape of most
/// stream tests: the test configures ``server`` and ``client`` (their
/// protocols' hooks), then ``run()`` listens, connects once the reactor
/// runs, and returns when a hook called ``finish()``.
final class StreamScenario {
    let reactor: Reactor
    let family: StreamFamily
    let server = RecordingServerFactory()
    let client = RecordingClientFactory()
    private(set) var port: (any ListeningPort)?
    private(set) var connector: (any Connector)?

    init(_ reactor: Reactor, _ family: StreamFamily) {
        self.reactor = reactor
        self.family = family
    }

    /// Listens, connects one client once running, and runs the reactor
    /// until ``finish()``. The factories' hooks are dropped afterwards, so
    /// closures that captured this scenario do not keep it (and its
    /// reactor) alive.
    func run(backlog: Int = 50) throws {
        defer { dropHooks() }
        let port = try family.listen(reactor, server, backlog: backlog)
        self.port = port
        var connectError: (any Error)?
        reactor.callWhenRunning { [self] in
            do {
                connector = try family.connect(reactor, to: port, client)
            } catch {
                connectError = error
                self.finish()
            }
        }
        try reactor.run()
        if let connectError { throw connectError }
    }

    /// Connects one more client with `factory` to the port.
    func connectAnother(_ factory: ClientFactory) throws {
        guard let port else { return }
        try family.connect(reactor, to: port, factory)
    }

    /// Stops listening, then stops the reactor once the port has closed.
    func finish() {
        stopListening(port.map { [$0] } ?? [], thenStop: reactor)
    }

    private func dropHooks() {
        server.dropHooks()
        client.dropHooks()
    }
}

extension StreamScenario {
    /// Runs one connection on which the server calls `serve` with its
    /// transport once connected, then loseConnection; returns what the
    /// client had received when its connection was lost.
    func runServing(_ serve: @escaping (any Transport) -> Void) throws -> [UInt8] {
        var received: [UInt8] = []
        server.configure = { proto in
            proto.onMade = { proto in
                guard let transport = proto.transport else { return }
                serve(transport)
                transport.loseConnection()
            }
        }
        client.configure = { [self] proto in
            proto.onLost = { proto, _ in
                received = proto.received
                self.finish()
            }
        }
        try run()
        return received
    }
}

/// What two clients saw when the server closed the first connection
/// without serving it (refused or shed) and served the second.
struct FirstClosedOutcome {
    var firstLost: [Failure] = []
    var firstReceived: [UInt8] = []
    var secondReceived: [UInt8] = []
}

extension StreamScenario {
    /// Runs two clients one after the other: the first should be closed
    /// unserved; once it is lost (`whenFirstLost` runs then) the second
    /// connects and should receive "served" from a protocol that writes it
    /// and closes.
    func runFirstClosedSecondServed(whenFirstLost: @escaping () -> Void = {}) throws -> FirstClosedOutcome {
        var outcome = FirstClosedOutcome()
        let second = RecordingClientFactory()
        defer { second.dropHooks() }
        second.configure = { [self] proto in
            proto.onLost = { proto, _ in
                outcome.secondReceived = proto.received
                self.finish()
            }
        }
        server.configure = { proto in
            proto.onMade = { proto in
                proto.transport?.write(Array("served".utf8))
                proto.transport?.loseConnection()
            }
        }
        client.configure = { [self] proto in
            proto.onLost = { proto, reason in
                outcome.firstLost.append(reason)
                outcome.firstReceived = proto.received
                whenFirstLost()
                do { try self.connectAnother(second) } catch { Issue.record(error) }
            }
        }
        try run()
        return outcome
    }
}
