import TorsionCore

/// Something that can listen for stream connections: Twisted's
/// `IStreamServerEndpoint`. Reactor thread only.
public protocol StreamServerEndpoint: AnyObject {
    /// Starts listening, giving each accepted connection a protocol from
    /// `factory`. The Deferred fires with the port once it listens, or fails
    /// with the reason (for example ``TorsionCore/CannotListenError``).
    func listen(_ factory: Factory) -> Deferred<any ListeningPort>
}

/// Something that can make one outgoing stream connection: Twisted's
/// `IStreamClientEndpoint`. Reactor thread only.
public protocol StreamClientEndpoint: AnyObject {
    /// Connects, building the protocol with `factory`. The Deferred fires
    /// with that protocol once its `connectionMade` has run, fails with the
    /// reason the attempt failed, and cancelling it while connecting stops
    /// the attempt with ``TorsionCore/ConnectingCancelledError``.
    func connect(_ factory: Factory) -> Deferred<Protocol>
}

// MARK: Servers

/// Listens on a TCP port: what ``TCP4ServerEndpoint`` and
/// ``TCP6ServerEndpoint`` share (the reactor picks the address family from
/// the interface literal). Reactor thread only.
public class TCPServerEndpoint: StreamServerEndpoint {
    /// The reactor that listens.
    public let reactor: any ReactorTCP
    /// The port (0: the system picks one, reported by the listening port).
    public let port: Int
    /// The listen queue length.
    public let backlog: Int
    /// The interface address literal to bind.
    public let interface: String

    init(listeningWith reactor: any ReactorTCP, port: Int, backlog: Int, interface: String) {
        self.reactor = reactor
        self.port = port
        self.backlog = backlog
        self.interface = interface
    }

    /// Calls `listenTCP`; its error becomes the Deferred's failure.
    public func listen(_ factory: Factory) -> Deferred<any ListeningPort> {
        maybeDeferred { try reactor.listenTCP(port, factory: factory, backlog: backlog, interface: interface) }
    }
}

/// Listens on an IPv4 TCP port: Twisted's `TCP4ServerEndpoint`
/// (`tcp:PORT` in ``serverFromString(_:_:)``). Reactor thread only.
public final class TCP4ServerEndpoint: TCPServerEndpoint {
    /// Makes an endpoint on an IPv4 `interface` (`""`: all); nothing is
    /// bound until ``TCPServerEndpoint/listen(_:)``.
    public init(reactor: any ReactorTCP, port: Int, backlog: Int = 50, interface: String = "") {
        super.init(listeningWith: reactor, port: port, backlog: backlog, interface: interface)
    }
}

/// Listens on an IPv6 TCP port: Twisted's `TCP6ServerEndpoint`
/// (`tcp6:PORT` in ``serverFromString(_:_:)``). Reactor thread only.
public final class TCP6ServerEndpoint: TCPServerEndpoint {
    /// Makes an endpoint on an IPv6 `interface` literal without brackets
    /// (`::`: all); nothing is bound until ``TCPServerEndpoint/listen(_:)``.
    public init(reactor: any ReactorTCP, port: Int, backlog: Int = 50, interface: String = "::") {
        super.init(listeningWith: reactor, port: port, backlog: backlog, interface: interface)
    }
}

/// Listens on a UNIX-domain stream socket: Twisted's `UNIXServerEndpoint`
/// (`unix:PATH` in ``serverFromString(_:_:)``). Reactor thread only.
public final class UNIXServerEndpoint: StreamServerEndpoint {
    /// The reactor that listens.
    public let reactor: any ReactorUNIX
    /// The socket path; a leading NUL is Linux's abstract namespace.
    public let path: String
    /// The listen queue length.
    public let backlog: Int
    /// The permission bits of the socket file.
    public let mode: UInt32

    /// Makes an endpoint; nothing is bound until ``listen(_:)``.
    public init(reactor: any ReactorUNIX, path: String, backlog: Int = 50, mode: UInt32 = 0o666) {
        self.reactor = reactor
        self.path = path
        self.backlog = backlog
        self.mode = mode
    }

    /// Calls `listenUNIX`; its error becomes the Deferred's failure.
    public func listen(_ factory: Factory) -> Deferred<any ListeningPort> {
        maybeDeferred { try reactor.listenUNIX(path, factory: factory, backlog: backlog, mode: mode) }
    }
}

// MARK: Clients

/// Connects over TCP to a host name or address literal (the reactor
/// resolves names): Twisted's `TCP4ClientEndpoint`/`HostnameEndpoint`
/// (`tcp:host=H:port=P` in ``clientFromString(_:_:)``). Reactor thread only.
public final class TCPClientEndpoint: StreamClientEndpoint {
    /// The reactor that connects.
    public let reactor: any ReactorTCP
    /// The host name or IPv4/IPv6 literal.
    public let host: String
    /// The port, 1–65535.
    public let port: Int
    /// Seconds before the attempt fails with ``TorsionCore/TimeoutError``.
    public let timeout: Double
    /// The local address to bind before connecting, if any.
    public let bindAddress: BindAddress?

    /// Makes an endpoint; nothing happens until ``connect(_:)``.
    public init(reactor: any ReactorTCP, host: String, port: Int, timeout: Double = 30, bindAddress: BindAddress? = nil)
    {
        self.reactor = reactor
        self.host = host
        self.port = port
        self.timeout = timeout
        self.bindAddress = bindAddress
    }

    /// Starts `connectTCP` through an ``EndpointConnectingFactory``.
    public func connect(_ factory: Factory) -> Deferred<Protocol> {
        EndpointConnectingFactory.connect(factory) { wrapping in
            reactor.connectTCP(host: host, port: port, factory: wrapping, timeout: timeout, bindAddress: bindAddress)
        }
    }
}

/// Connects to a UNIX-domain stream socket: Twisted's `UNIXClientEndpoint`
/// (`unix:path=P` in ``clientFromString(_:_:)``). Reactor thread only.
public final class UNIXClientEndpoint: StreamClientEndpoint {
    /// The reactor that connects.
    public let reactor: any ReactorUNIX
    /// The socket path; a leading NUL is Linux's abstract namespace.
    public let path: String
    /// Seconds before the attempt fails with ``TorsionCore/TimeoutError``.
    public let timeout: Double

    /// Makes an endpoint; nothing happens until ``connect(_:)``.
    public init(reactor: any ReactorUNIX, path: String, timeout: Double = 30) {
        self.reactor = reactor
        self.path = path
        self.timeout = timeout
    }

    /// Starts `connectUNIX` through an ``EndpointConnectingFactory``.
    public func connect(_ factory: Factory) -> Deferred<Protocol> {
        EndpointConnectingFactory.connect(factory) { wrapping in
            reactor.connectUNIX(path, factory: wrapping, timeout: timeout)
        }
    }
}
