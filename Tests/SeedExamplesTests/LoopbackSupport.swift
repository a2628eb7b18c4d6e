import Testing
import TorsionCore
import ReactorTestSupport
import TorsionProtocols

@testable import TorsionPosix

// Helpers for driving the seed examples over loopback TCP with a real
// `Reactor`. Everything here runs on the test's thread, which is the
// reactor thread.

/// A reactor on the backend named by `TORSION_REACTOR`, or the best one.
/// The examples run on the default backend; the conformance suite covers
/// every backend.
func makeLoopbackReactor() throws -> Reactor {
    try Reactor(backend: Backend.fromEnvironment())
}

/// Runs `reactor` under the shared watchdog (``runWithWatchdog``), then
/// checks that nothing is left: no delayed call, no connection, no
/// descriptor the reactor owns.
func runCheckingLeaks(
    _ reactor: Reactor, limit: Double = 10, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try runWithWatchdog(reactor, limit: limit, sourceLocation: sourceLocation)
    #expect(reactor.getDelayedCalls().isEmpty, "delayed calls left", sourceLocation: sourceLocation)
    #expect(reactor.liveConnectionCount == 0, "connections left", sourceLocation: sourceLocation)
    #expect(reactor.ownedDescriptorCount == 0, "owned descriptors left", sourceLocation: sourceLocation)
}

/// The port the system gave a listening port opened on port 0.
func boundPort(_ listening: any ListeningPort, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let address = try #require(listening.host as? IPv4Address, sourceLocation: sourceLocation)
    return address.port
}

/// Calls `body` with a loopback port that was free a moment ago (listened
/// on with port 0, then let go, `body` running once the port is closed):
/// for testing what a client does when nothing listens.
func withUnusedPort(
    _ reactor: Reactor, sourceLocation: SourceLocation = #_sourceLocation, _ body: @escaping (Int) -> Void
) throws {
    let probe = try reactor.listenTCP(0, factory: Factory(), interface: "127.0.0.1")
    let port = try boundPort(probe, sourceLocation: sourceLocation)
    probe.stopListening().addBoth { _ in body(port) }
}

/// Stops `listening` in the `before` phase of the reactor's shutdown, for
/// tests in which an example's client stops the reactor.
func stopListeningAtShutdown(_ listening: any ListeningPort, _ reactor: Reactor) {
    reactor.addSystemEventTrigger(.before, .shutdown) { listening.stopListening() }
}

/// Stops `listening`, then the reactor once the port has let go of its
/// factory: how a test ends after its last client is done.
func stopListeningAndReactor(_ listening: any ListeningPort, _ reactor: Reactor) {
    listening.stopListening().addBoth { _ in
        do {
            try reactor.stop()
        } catch {
            Issue.record("stopping the reactor failed: \(error)")
        }
    }
}

/// A client for servers that have no client in the seed: records every
/// byte received and how the connection ended, and hands each event to the
/// test's closures. Reactor thread only.
final class RecordingClient: Protocol {
    /// Every byte received so far.
    private(set) var received: [UInt8] = []
    /// The reason given to `connectionLost`, once it ran.
    private(set) var lostReason: Failure?

    var onConnect: (RecordingClient) -> Void = { _ in }
    var onData: (RecordingClient) -> Void = { _ in }
    var onLost: (RecordingClient) -> Void = { _ in }

    /// What was received, as text.
    var receivedText: String { String(decoding: received, as: UTF8.self) }

    override func connectionMade() { onConnect(self) }

    override func dataReceived(_ data: [UInt8]) {
        received += data
        onData(self)
    }

    override func connectionLost(reason: Failure) {
        lostReason = reason
        super.connectionLost(reason: reason)
        onLost(self)
    }
}

/// A CRLF line client: records every line received and hands each to
/// ``onLine``. Reactor thread only.
final class LineClient: LineReceiver {
    /// Every line received so far, without delimiters.
    private(set) var lines: [String] = []
    /// The reason given to `connectionLost`, once it ran.
    private(set) var lostReason: Failure?

    var onConnect: (LineClient) -> Void = { _ in }
    var onLine: (LineClient, String) -> Void = { _, _ in }
    var onLost: (LineClient) -> Void = { _ in }

    override func connectionMade() { onConnect(self) }

    override func lineReceived(_ line: [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        lines.append(text)
        onLine(self, text)
    }

    override func connectionLost(reason: Failure) {
        lostReason = reason
        super.connectionLost(reason: reason)
        onLost(self)
    }
}

/// A client factory handing out one prepared protocol. A failed connection
/// is a test failure: it is recorded and the reactor is stopped.
final class PreparedClientFactory: ClientFactory {
    private let prepared: Protocol
    private let reactor: any ReactorCore

    init(_ prepared: Protocol, reactor: any ReactorCore) {
        self.prepared = prepared
        self.reactor = reactor
    }

    override func buildProtocol(address: any Address) -> Protocol? {
        prepared.factory = self
        return prepared
    }

    override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        Issue.record("the test client could not connect: \(reason)")
        try? reactor.stop()
    }
}

extension Reactor {
    /// Connects `client` to `port` on 127.0.0.1.
    func connectLoopback(_ client: Protocol, port: Int) {
        connectTCP(host: "127.0.0.1", port: port, factory: PreparedClientFactory(client, reactor: self))
    }
}
