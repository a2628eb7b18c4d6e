import CTorsionPosix
import Glibc
import TorsionCore

/// The socket calls the reactor's TCP and UNIX transports are built on:
/// thin wrappers that make every descriptor non-blocking and
/// close-on-exec, retry `EINTR`, and report failures as ``SystemError``
/// naming the call. Any thread; each descriptor is owned by one caller.
public enum Socket {
    /// The kind of socket to make.
    public enum Kind: Sendable {
        /// A byte stream (TCP, UNIX stream).
        case stream
        /// Datagrams (UDP, UNIX datagram).
        case datagram

        fileprivate var rawValue: Int32 {
            switch self {
            case .stream: Int32(SOCK_STREAM.rawValue)
            case .datagram: Int32(SOCK_DGRAM.rawValue)
            }
        }
    }

    /// How a non-blocking `connect` went.
    public enum ConnectResult: Sendable, Hashable {
        /// Connected at once (typical for UNIX sockets and loopback).
        case connected
        /// In progress (`EINPROGRESS`): wait for writability, then ask
        /// ``finishConnect(_:)``.
        case pending
    }

    // MARK: Making, binding, listening

    /// A new non-blocking, close-on-exec socket of `family` (`AF_INET`,
    /// `AF_INET6`, `AF_UNIX`). The caller closes it.
    public static func makeSocket(family: Int32, kind: Kind) throws(SystemError) -> Int32 {
        try retryingInterrupts("socket") {
            socket(family, kind.rawValue | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    /// Binds `descriptor` to `address`.
    public static func bind(_ descriptor: Int32, to address: SocketAddress) throws(SocketOperationError) {
        try address.withSockAddr { (pointer, length) throws(SystemError) in
            _ = try retryingInterrupts("bind") { Glibc.bind(descriptor, pointer, length) }
        }
    }

    /// Starts accepting on a bound stream socket with a queue of `backlog`.
    public static func listen(_ descriptor: Int32, backlog: Int) throws(SystemError) {
        // listen(2) takes an int; the kernel caps it at net.core.somaxconn.
        let backlog = Int32(clamping: backlog)
        try retryingInterrupts("listen") { Glibc.listen(descriptor, backlog) }
    }

    /// A listening stream socket on `address`: made, `SO_REUSEADDR` set (so
    /// a restarted server can bind while old connections sit in TIME_WAIT),
    /// `SO_REUSEPORT` when asked, bound and listening. On failure the socket
    /// is closed and nothing leaks.
    ///
    /// - Throws: ``TorsionCore/CannotListenError`` naming the interface, the
    ///   port (or path) and the reason, for example `EADDRINUSE`'s text.
    public static func makeListeningSocket(
        on address: SocketAddress, backlog: Int, reusePort: Bool = false
    ) throws(CannotListenError) -> Int32 {
        let descriptor: Int32
        do {
            descriptor = try makeSocket(family: address.family, kind: .stream)
        } catch {
            throw cannotListen(on: address, reason: error.description)
        }
        do {
            if address.family != AF_UNIX {
                try setReuseAddress(descriptor, true)
                if reusePort { try setReusePort(descriptor, true) }
            }
            try bind(descriptor, to: address)
            try listen(descriptor, backlog: backlog)
            return descriptor
        } catch {
            close(descriptor)
            throw cannotListen(on: address, reason: "\(error)")
        }
    }

    private static func cannotListen(on address: SocketAddress, reason: String) -> CannotListenError {
        switch address {
        case .ipv4(let ip): CannotListenError(interface: ip.host, port: String(ip.port), reason: reason)
        case .ipv6(let ip): CannotListenError(interface: ip.host, port: String(ip.port), reason: reason)
        case .unix(let unix): CannotListenError(interface: "unix", port: unix.name ?? "", reason: reason)
        }
    }

    // MARK: Accepting and connecting

    /// Accepts one pending connection as a non-blocking, close-on-exec
    /// descriptor with its peer's address, or `nil` when none is waiting
    /// (`EAGAIN`). A connection reset before it was accepted
    /// (`ECONNABORTED`) is skipped. `EMFILE`/`ENFILE` are thrown: the
    /// caller decides how to shed the connection. A peer of a family
    /// ``SocketAddress`` cannot represent is closed and reported as
    /// `EAFNOSUPPORT`.
    public static func accept(_ descriptor: Int32) throws(SystemError) -> (descriptor: Int32, peer: SocketAddress)? {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // SAFETY: accept4 writes at most `length` bytes into storage.
            let accepted = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept4(descriptor, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if accepted >= 0 {
                guard let peer = try? SocketAddress(storage: storage, length: length) else {
                    // Only a listener of a family SocketAddress does not
                    // represent gets here; refuse the connection rather
                    // than invent a peer address.
                    close(accepted)
                    throw SystemError(errno: EAFNOSUPPORT, call: "accept4")
                }
                return (accepted, peer)
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemError(errno: code, call: "accept4")
            }
        }
    }

    /// Starts connecting `descriptor` (non-blocking) to `address`.
    ///
    /// - Returns: ``ConnectResult/connected`` or, for `EINPROGRESS` (and
    ///   `EINTR`, after which the connection continues in the background),
    ///   ``ConnectResult/pending``.
    /// - Throws: the address error, or the call's error (`ECONNREFUSED`
    ///   when a UNIX or loopback peer refuses at once).
    public static func connect(
        _ descriptor: Int32, to address: SocketAddress
    ) throws(SocketOperationError) -> ConnectResult {
        try address.withSockAddr { (pointer, length) throws(SystemError) in
            if Glibc.connect(descriptor, pointer, length) == 0 { return .connected }
            switch errno {
            case EINPROGRESS, EINTR: return .pending
            case let code: throw SystemError(errno: code, call: "connect")
            }
        }
    }

    /// Completes a ``ConnectResult/pending`` connect once the socket is
    /// writable: returns if it connected.
    ///
    /// - Throws: ``SystemError`` for `connect` with the attempt's errno
    ///   (from `SO_ERROR`), for example `ECONNREFUSED` or `ETIMEDOUT`.
    public static func finishConnect(_ descriptor: Int32) throws(SystemError) {
        let pending = try option(descriptor, level: SOL_SOCKET, name: SO_ERROR)
        if pending != 0 { throw SystemError(errno: pending, call: "connect") }
    }

    // MARK: Addresses

    /// The local address of `descriptor` (`getsockname`); with port 0
    /// bound, the port the system chose.
    public static func localAddress(_ descriptor: Int32) throws(SocketOperationError) -> SocketAddress {
        try queryAddress(descriptor, call: "getsockname", getsockname)
    }

    /// The remote address of a connected `descriptor` (`getpeername`).
    public static func peerAddress(_ descriptor: Int32) throws(SocketOperationError) -> SocketAddress {
        try queryAddress(descriptor, call: "getpeername", getpeername)
    }

    private static func queryAddress(
        _ descriptor: Int32, call: String,
        _ query: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SocketOperationError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        // SAFETY: the call writes at most `length` bytes into storage.
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { query(descriptor, $0, &length) }
        }
        if result < 0 { throw .system(SystemError(errno: errno, call: call)) }
        do {
            return try SocketAddress(storage: storage, length: length)
        } catch {
            throw .address(error)
        }
    }

    // MARK: Options

    /// Sets `SO_REUSEADDR`: bind even while old connections on the port are in TIME_WAIT.
    public static func setReuseAddress(_ descriptor: Int32, _ on: Bool) throws(SystemError) {
        try setOption(descriptor, level: SOL_SOCKET, name: SO_REUSEADDR, on ? 1 : 0)
    }

    /// Sets `SO_REUSEPORT`: several sockets may listen on the same port and
    /// the kernel spreads connections among them.
    public static func setReusePort(_ descriptor: Int32, _ on: Bool) throws(SystemError) {
        try setOption(descriptor, level: SOL_SOCKET, name: SO_REUSEPORT, on ? 1 : 0)
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of waiting (Nagle).
    public static func setNoDelay(_ descriptor: Int32, _ on: Bool) throws(SystemError) {
        try setOption(descriptor, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, on ? 1 : 0)
    }

    /// Sets `SO_KEEPALIVE`: probe an idle connection so a vanished peer is noticed.
    public static func setKeepAlive(_ descriptor: Int32, _ on: Bool) throws(SystemError) {
        try setOption(descriptor, level: SOL_SOCKET, name: SO_KEEPALIVE, on ? 1 : 0)
    }

    /// Sets an `int` socket option.
    public static func setOption(_ descriptor: Int32, level: Int32, name: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        try retryingInterrupts("setsockopt") {
            setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Reads an `int` socket option.
    public static func option(_ descriptor: Int32, level: Int32, name: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        try retryingInterrupts("getsockopt") { getsockopt(descriptor, level, name, &value, &length) }
        return value
    }
}
