import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Turns the loop until `condition` holds, under a watchdog: each wait ends
/// with the I/O or the timer that comes first, and the whole loop with a
/// 10 s watchdog timer that records a failure and stops turning.
/// Returns whether the condition was met.
@discardableResult
func turn(
    _ reactor: Reactor, until condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation
) throws -> Bool {
    let watchdog = armWatchdog(reactor, sourceLocation: sourceLocation)
    while !condition() && watchdog.isActive {
        // `iterate` runs the due timers, then waits for I/O up to its
        // delay: run what is due first, then wait no longer than the next
        // timer, so a condition a timer meets is seen at once.
        reactor.iterate(delay: 0)
        if condition() { break }
        let untilNextTimer = reactor.timers.nextDeadline.map { $0 - reactor.seconds() } ?? 10
        reactor.iterate(delay: max(0, min(untilNextTimer, 10)))
    }
    if watchdog.isActive { try watchdog.cancel() }
    return condition()
}

/// A UNIX socket path unique to this process and call.
func uniqueSocketPath(_ name: String) -> String {
    "/tmp/torsion-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name).sock"
}

/// A loopback IPv4 address with a port that nobody listens on: a socket
/// bound to it (not listening) holds the port, so the kernel answers a
/// connection attempt with a reset. Close ``descriptor`` afterwards.
struct RefusingPort {
    let descriptor: Int32
    let address: SocketAddress

    init() throws {
        descriptor = try Socket.makeSocket(family: AF_INET, kind: .stream)
        try Socket.bind(descriptor, to: .ipv4(IPv4Address(host: "127.0.0.1", port: 0)))
        address = try Socket.localAddress(descriptor)
    }

    /// The port number held.
    var port: Int {
        guard case .ipv4(let ipv4) = address else { return 0 }
        return ipv4.port
    }
}

/// A plain listening socket on an IPv4 loopback port the system chose;
/// close ``descriptor`` afterwards.
struct LoopbackListener {
    let descriptor: Int32
    let address: SocketAddress
    let port: Int

    init(backlog: Int = 8) throws {
        descriptor = try Socket.makeListeningSocket(
            on: .ipv4(IPv4Address(host: "127.0.0.1", port: 0)), backlog: backlog)
        address = try Socket.localAddress(descriptor)
        guard case .ipv4(let ipv4) = address else { throw SocketAddressError.unsupportedFamily(AF_INET) }
        port = ipv4.port
    }
}

/// `true` when `::1` can be bound (containers often disable IPv6).
let ipv6LoopbackWorks: Bool = {
    guard let descriptor = try? Socket.makeSocket(family: AF_INET6, kind: .stream) else { return false }
    defer { close(descriptor) }
    return (try? Socket.bind(descriptor, to: .ipv6(IPv6Address(host: "::1", port: 0)))) != nil
}()

/// A server factory that records its lifecycle and builds protocols from
/// `make` (none by default: connections are refused and closed).
final class LifecycleFactory: Factory {
    var events: [String] = []
    var built: [any Address] = []
    var make: () -> Protocol? = { nil }

    override func buildProtocol(address: any Address) -> Protocol? {
        built.append(address)
        let made = make()
        made?.factory = self
        return made
    }

    override func startFactory() { events.append("start") }
    override func stopFactory() { events.append("stop") }
}

/// A client factory that records every call, in order, and runs the
/// optional reactions.
final class RecordingClientFactory: ClientFactory {
    var events: [String] = []
    var failures: [Failure] = []
    var losses: [Failure] = []
    var make: () -> Protocol? = { Protocol() }
    var onStartedConnecting: (any Connector) -> Void = { _ in }
    var onFailed: (any Connector, Failure) -> Void = { _, _ in }
    var onLost: (any Connector, Failure) -> Void = { _, _ in }

    override func buildProtocol(address: any Address) -> Protocol? {
        events.append("build")
        return make()
    }

    override func startFactory() { events.append("start") }
    override func stopFactory() { events.append("stop") }

    override func startedConnecting(_ connector: any Connector) {
        events.append("startedConnecting")
        onStartedConnecting(connector)
    }

    override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        events.append("failed")
        failures.append(reason)
        onFailed(connector, reason)
    }

    override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
        events.append("lost")
        losses.append(reason)
        onLost(connector, reason)
    }
}

/// A nonblocking client socket connected (or connecting) to `address`;
/// the caller closes it.
func rawClient(to address: SocketAddress) throws -> Int32 {
    let client = try Socket.makeSocket(family: address.family, kind: .stream)
    do {
        _ = try Socket.connect(client, to: address)
    } catch {
        close(client)
        throw error
    }
    return client
}

/// Reads what is available on a nonblocking `descriptor`: `nil` when
/// nothing is there yet (`EAGAIN`), `[]` at end of file or reset.
func readAvailable(_ descriptor: Int32) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? nil : [] }
    return Array(buffer.prefix(count))
}
