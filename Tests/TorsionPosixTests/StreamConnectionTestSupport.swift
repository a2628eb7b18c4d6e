import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// A connected, non-blocking, close-on-exec AF_UNIX stream socket pair.
func makeSocketPair() throws -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    if socketpair(AF_UNIX, kind, 0, &fds) != 0 { throw SystemError(call: "socketpair") }
    return (fds[0], fds[1])
}

/// A connected TCP pair over IPv4 loopback: (client, server). The waits
/// are poll calls that return as soon as the handshake is done; the 5 s
/// limit only guards against a hang.
func makeTCPPair() throws -> (client: Int32, server: Int32) {
    let listener = try Socket.makeListeningSocket(on: .ipv4(IPv4Address(host: "127.0.0.1", port: 0)), backlog: 1)
    defer { close(listener) }
    let address = try Socket.localAddress(listener)
    let client = try Socket.makeSocket(family: AF_INET, kind: .stream)
    do {
        if try Socket.connect(client, to: address) == .pending {
            var entry = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
            guard poll(&entry, 1, 5000) == 1 else { throw SystemError(errno: ETIMEDOUT, call: "poll") }
            try Socket.finishConnect(client)
        }
        var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 5000) == 1, let (server, _) = try Socket.accept(listener) else {
            throw SystemError(errno: ETIMEDOUT, call: "accept")
        }
        return (client, server)
    } catch {
        close(client)
        throw error
    }
}

/// The kinds of connected pairs every transport behaviour runs on.
enum PairKind: CaseIterable, Sendable, CustomStringConvertible {
    case unix
    case tcp

    var description: String {
        switch self {
        case .unix: "UNIX socketpair"
        case .tcp: "TCP loopback"
        }
    }
}

/// Every backend with every kind of pair.
let backendsAndPairs: [(Backend, PairKind)] = Backend.available.flatMap { backend in
    PairKind.allCases.map { (backend, $0) }
}

/// Two stream connections of `reactor`, one per end of a fresh pair of
/// `kind`, not started yet.
func makeConnections(_ reactor: Reactor, _ kind: PairKind) throws -> (StreamConnection, StreamConnection) {
    switch kind {
    case .unix:
        let (first, second) = try makeSocketPair()
        let unnamed = SocketAddress.unix(UNIXAddress(nil))
        return (
            reactor.makeStreamConnection(descriptor: first, host: unnamed, peer: unnamed),
            reactor.makeStreamConnection(descriptor: second, host: unnamed, peer: unnamed)
        )
    case .tcp:
        let (client, server) = try makeTCPPair()
        return (
            reactor.makeStreamConnection(
                descriptor: client, host: try Socket.localAddress(client), peer: try Socket.peerAddress(client)),
            reactor.makeStreamConnection(
                descriptor: server, host: try Socket.localAddress(server), peer: try Socket.peerAddress(server))
        )
    }
}

/// A protocol that records what happens to it and runs hooks the test sets.
class RecordingProtocol: Protocol {
    var received: [UInt8] = []
    var chunks = 0
    var made = 0
    var lost: [Failure] = []
    var onMade: (RecordingProtocol) -> Void = { _ in }
    var onData: (RecordingProtocol, [UInt8]) -> Void = { _, _ in }
    var onLost: (RecordingProtocol, Failure) -> Void = { _, _ in }

    override func connectionMade() {
        made += 1
        onMade(self)
    }

    override func dataReceived(_ data: [UInt8]) {
        received += data
        chunks += 1
        onData(self, data)
    }

    override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        lost.append(reason)
        onLost(self, reason)
    }
}

/// A recording protocol that also wants to hear about each half closing.
final class HalfCloseRecordingProtocol: RecordingProtocol, HalfCloseableProtocol {
    var readLost = 0
    var writeLost = 0
    var onReadLost: (HalfCloseRecordingProtocol) -> Void = { _ in }

    func readConnectionLost() {
        readLost += 1
        onReadLost(self)
    }

    func writeConnectionLost() { writeLost += 1 }
}

/// A streaming producer that counts the calls it gets.
final class RecordingPushProducer: PushProducer {
    var pauses = 0
    var resumes = 0
    var stops = 0
    var onResume: () -> Void = {}
    func pauseProducing() { pauses += 1 }
    func resumeProducing() {
        resumes += 1
        onResume()
    }
    func stopProducing() { stops += 1 }
}

/// `count` bytes of a repeating pattern, so reordering or loss shows.
func patternBytes(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed) % 251) }
}

/// The error inside a lost reason, as the family the test expects.
func lossKind(_ failure: Failure?) -> String {
    switch failure?.error {
    case is ConnectionDone: "done"
    case is ConnectionAborted: "aborted"
    case is ConnectionLost: "lost"
    case nil: "none"
    default: "other: \(failure!.errorMessage)"
    }
}

/// After a test: no leaks in the reactor and no descriptor it owns left.
func expectNoTransportLeaks(_ reactor: Reactor, sourceLocation: SourceLocation = #_sourceLocation) {
    expectNoLeaks(reactor, sourceLocation: sourceLocation)
    #expect(reactor.ownedDescriptorCount == 0, "owned descriptors left", sourceLocation: sourceLocation)
    #expect(reactor.liveConnectionCount == 0, "live connections left", sourceLocation: sourceLocation)
}

/// Turns the loop of a reactor that is not running until `condition`
/// holds, under a watchdog timer: if it fires first, the test fails
/// instead of hanging. Each turn waits for I/O at most 50 ms.
func iterate(
    _ reactor: Reactor, until condition: () -> Bool, limit: Double = 10,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let expired = ReactorOwned(false)
    let watchdog = reactor.callLater(limit) { expired.value = true }
    while !condition() && !expired.value { reactor.iterate(delay: 0.05) }
    #expect(!expired.value, "watchdog: the condition did not hold after \(limit) s", sourceLocation: sourceLocation)
    if watchdog.isActive { try? watchdog.cancel() }
}
