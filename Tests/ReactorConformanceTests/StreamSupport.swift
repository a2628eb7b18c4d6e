import Glibc
import Synchronization
import Testing
import TorsionCore

@testable import TorsionPosix

// Helpers for the TCP and UNIX stream tests. They use the public API only:
// listenTCP / connectTCP / listenUNIX / connectUNIX, Transport, Connector,
// ListeningPort, Protocol and the factories.

/// The two address families of the stream transport. Every transport
/// behaviour runs on each, on every backend: one implementation serves both.
enum StreamFamily: String, CaseIterable, CustomStringConvertible, Sendable {
    case tcp
    case unix

    var description: String { rawValue }

    /// Listens on a fresh loopback address: 127.0.0.1 port 0 for TCP, a
    /// unique abstract-namespace name for UNIX (no file to clean up).
    func listen(_ reactor: Reactor, _ factory: Factory, backlog: Int = 50) throws -> any ListeningPort {
        switch self {
        case .tcp: try reactor.listenTCP(0, factory: factory, backlog: backlog, interface: "127.0.0.1")
        case .unix: try reactor.listenUNIX(uniqueAbstractName(), factory: factory, backlog: backlog)
        }
    }

    /// Connects `factory` to `port`.
    @discardableResult
    func connect(_ reactor: Reactor, to port: any ListeningPort, _ factory: ClientFactory) throws -> any Connector {
        try connect(reactor, to: port.host, factory)
    }

    /// Connects `factory` to `address` (an IP address for TCP, a UNIX
    /// address for UNIX).
    @discardableResult
    func connect(_ reactor: Reactor, to address: any Address, _ factory: ClientFactory) throws -> any Connector {
        switch self {
        case .tcp:
            let ip = try #require(address as? IPv4Address, "not an IPv4 address: \(address)")
            return reactor.connectTCP(
                host: ip.host, port: ip.port, factory: factory, timeout: 10, bindAddress: nil)
        case .unix:
            let name = try #require((address as? UNIXAddress)?.name, "not a named UNIX address: \(address)")
            return reactor.connectUNIX(name, factory: factory, timeout: 10)
        }
    }

    /// A socket of this family that is bound and listening but never
    /// accepts: connections to it stay queued in the kernel. The caller
    /// closes the descriptor.
    func silentListener() throws -> (descriptor: Int32, address: any Address) {
        let descriptor = try Socket.makeListeningSocket(on: loopbackAddress(), backlog: 8)
        return (descriptor, try Socket.localAddress(descriptor).address)
    }

    /// An address nobody listens on, held so no test can take it: for TCP
    /// a bound socket that does not listen (the kernel answers with a
    /// reset), for UNIX an abstract name bound by no one. The caller
    /// closes the descriptor (-1 when there is none).
    func refusingAddress() throws -> (descriptor: Int32, address: any Address) {
        switch self {
        case .tcp:
            let descriptor = try Socket.makeSocket(family: AF_INET, kind: .stream)
            try Socket.bind(descriptor, to: loopbackAddress())
            return (descriptor, try Socket.localAddress(descriptor).address)
        case .unix:
            return (-1, UNIXAddress(uniqueAbstractName()))
        }
    }

    private func loopbackAddress() -> SocketAddress {
        switch self {
        case .tcp: .ipv4(IPv4Address(host: "127.0.0.1", port: 0))
        case .unix: .unix(UNIXAddress(uniqueAbstractName()))
        }
    }
}

/// The port number of an IP address (0 for another kind).
func portNumber(_ address: any Address) -> Int {
    switch address {
    case let address as IPv4Address: address.port
    case let address as IPv6Address: address.port
    default: 0
    }
}

private let nameCounter = Atomic<Int>(0)

/// A Linux abstract-namespace socket name no other test uses.
func uniqueAbstractName() -> String {
    let number = nameCounter.add(1, ordering: .relaxed).newValue
    return "\0torsion-conformance-\(getpid())-\(number)"
}

/// A fresh socket file path in the temporary directory, not created.
func uniqueSocketPath() -> String {
    let number = nameCounter.add(1, ordering: .relaxed).newValue
    return "/tmp/torsion-conformance-\(getpid())-\(number).sock"
}

/// A protocol that records its events and lets the test react to them.
/// The hooks receive the protocol so they need not capture it (a protocol
/// capturing itself would never be released, and the leak checks would
/// report it).
class RecordingProtocol: Protocol {
    var madeCount = 0
    var received: [UInt8] = []
    var lostReasons: [Failure] = []
    var onMade: (RecordingProtocol) -> Void = { _ in }
    var onData: (RecordingProtocol, [UInt8]) -> Void = { _, _ in }
    var onLost: (RecordingProtocol, Failure) -> Void = { _, _ in }

    override func connectionMade() {
        madeCount += 1
        onMade(self)
    }

    override func dataReceived(_ data: [UInt8]) {
        received += data
        onData(self, data)
    }

    override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        lostReasons.append(reason)
        onLost(self, reason)
    }

    /// The transport as a half-closeable one (every stream transport is).
    var halfCloseable: (any HalfCloseableTransport)? { transport as? any HalfCloseableTransport }
}

/// A recording protocol that also wants to hear about each half closing.
final class HalfCloseRecordingProtocol: RecordingProtocol, HalfCloseableProtocol {
    var readLostCount = 0
    var writeLostCount = 0
    var onReadLost: (HalfCloseRecordingProtocol) -> Void = { _ in }
    var onWriteLost: (HalfCloseRecordingProtocol) -> Void = { _ in }

    func readConnectionLost() {
        readLostCount += 1
        onReadLost(self)
    }

    func writeConnectionLost() {
        writeLostCount += 1
        onWriteLost(self)
    }
}

/// A server factory building recording protocols, configured by the test.
final class RecordingServerFactory: Factory {
    /// Makes each protocol; returning `nil` refuses the connection.
    var make: () -> RecordingProtocol? = { RecordingProtocol() }
    /// Called with each protocol built, before it is connected.
    var configure: (RecordingProtocol) -> Void = { _ in }
    var builtCount = 0
    var peers: [any Address] = []
    var startCount = 0
    var stopCount = 0

    override func startFactory() { startCount += 1 }
    override func stopFactory() { stopCount += 1 }

    /// Drops the test's hooks, so closures that captured the test's state
    /// (a scenario, a reactor) no longer stay alive through this factory.
    func dropHooks() {
        make = { RecordingProtocol() }
        configure = { _ in }
    }

    override func buildProtocol(address: any Address) -> Protocol? {
        peers.append(address)
        guard let built = make() else { return nil }
        builtCount += 1
        built.factory = self
        configure(built)
        return built
    }
}

/// A client factory building recording protocols and recording how each
/// attempt went.
final class RecordingClientFactory: ClientFactory {
    var make: () -> RecordingProtocol = { RecordingProtocol() }
    var configure: (RecordingProtocol) -> Void = { _ in }
    var startedCount = 0
    var failures: [Failure] = []
    var losses: [Failure] = []
    var onFailed: (any Connector, Failure) -> Void = { _, _ in }
    var onLost: (any Connector, Failure) -> Void = { _, _ in }

    override func buildProtocol(address: any Address) -> Protocol? {
        let built = make()
        built.factory = self
        configure(built)
        return built
    }

    override func startedConnecting(_ connector: any Connector) { startedCount += 1 }

    override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        failures.append(reason)
        onFailed(connector, reason)
    }

    override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
        losses.append(reason)
        onLost(connector, reason)
    }

    /// Drops the test's hooks, so closures that captured the test's state
    /// (a scenario, a reactor) no longer stay alive through this factory.
    func dropHooks() {
        make = { RecordingProtocol() }
        configure = { _ in }
        onFailed = { _, _ in }
        onLost = { _, _ in }
    }
}

/// Runs `then` after `count` calls of ``tick()``; a scenario's parts each
/// tick once when done.
final class Countdown {
    private var remaining: Int
    private let then: () -> Void

    init(_ count: Int, then: @escaping () -> Void) {
        remaining = count
        self.then = then
    }

    func tick() {
        remaining -= 1
        if remaining == 0 { then() }
    }
}

/// Stops listening on `ports`, then stops `reactor` once every port has
/// closed: the usual end of a stream scenario, leaving nothing for
/// shutdown to clean.
func stopListening(_ ports: [any ListeningPort], thenStop reactor: Reactor) {
    let closed = Countdown(ports.count) { try? reactor.stop() }
    for port in ports {
        port.stopListening().addBoth { (_: Result<Void, Failure>) in closed.tick() }
    }
}

/// Bytes 0, 1, …, 255, 0, 1, … : a payload whose corruption, loss or
/// reordering shows in a comparison.
func patternBytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    // Built from 256-byte blocks: a per-byte closure is slow in debug builds.
    let block = (0...255).map { UInt8($0) &+ seed }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count { bytes += block.prefix(count - bytes.count) }
    return bytes
}

/// `true` when `failure` is a clean close (Twisted's `ConnectionDone`).
func isDone(_ failure: Failure?) -> Bool { failure?.error is ConnectionDone }

/// `true` when `failure` is any closed-connection reason (Done, Lost, Aborted).
func isClosed(_ failure: Failure?) -> Bool { failure?.error is any ConnectionClosed }
