/// A local address to bind an outgoing connection to.
public struct BindAddress: Sendable, Hashable {
    /// Local host to bind (`""` for any).
    public var host: String
    /// Local port to bind (0 for any).
    public var port: Int
    /// Makes a bind address.
    public init(host: String, port: Int = 0) {
        self.host = host
        self.port = port
    }
}

/// TCP servers and clients: Twisted's `IReactorTCP`. Reactor thread only.
public protocol ReactorTCP: AnyObject {
    /// Listens on `port` (0: the system picks one, reported by the port's
    /// ``ListeningPort/host``) on `interface` (`""`: all IPv4 interfaces;
    /// an IPv6 literal listens on IPv6). Each accepted connection gets a
    /// protocol from `factory`.
    ///
    /// - Throws: ``CannotListenError`` when the address cannot be bound.
    func listenTCP(_ port: Int, factory: Factory, backlog: Int, interface: String) throws -> any ListeningPort

    /// Connects to `host`:`port` (a name is resolved first) and reports to
    /// `factory`; fails with ``TimeoutError`` after `timeout` seconds.
    @discardableResult
    func connectTCP(
        host: String, port: Int, factory: ClientFactory, timeout: Double, bindAddress: BindAddress?
    ) -> any Connector
}

extension ReactorTCP {
    /// `listenTCP` with Twisted's defaults: backlog 50, all interfaces.
    public func listenTCP(_ port: Int, factory: Factory, backlog: Int = 50, interface: String = "") throws
        -> any ListeningPort
    {
        try listenTCP(port, factory: factory, backlog: backlog, interface: interface)
    }

    /// `connectTCP` with Twisted's defaults: 30 s timeout, no bind address.
    @discardableResult
    public func connectTCP(
        host: String, port: Int, factory: ClientFactory, timeout: Double = 30, bindAddress: BindAddress? = nil
    ) -> any Connector {
        connectTCP(host: host, port: port, factory: factory, timeout: timeout, bindAddress: bindAddress)
    }
}
