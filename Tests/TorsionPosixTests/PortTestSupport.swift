import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Turns the loop until `condition` holds, under a watchdog: the wait for
/// each turn is bounded by the I/O or timer that ends it, and the whole
/// loop by a 10 s watchdog timer that records a failure and stops turning.
/// Returns whether the condition was met.
@discardableResult
func turn(
    _ reactor: Reactor, until condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation
) throws -> Bool {
    let watchdog = armWatchdog(reactor, sourceLocation: sourceLocation)
    while !condition() && watchdog.isActive {
        reactor.iterate(delay: 10)
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

/// `true` when `::1` can be bound (containers often disable IPv6).
let ipv6LoopbackWorks: Bool = {
    guard let descriptor = try? Socket.makeSocket(family: AF_INET6, kind: .stream) else { return false }
    defer { close(descriptor) }
    return (try? Socket.bind(descriptor, to: .ipv6(IPv6Address(host: "::1", port: 0)))) != nil
}()
