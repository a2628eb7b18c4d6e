/// The TLS configuration of a server or client connection (certificates,
/// verification, ALPN): Twisted's context factory. Implemented by the TLS
/// module; opaque here so the core stays free of OpenSSL.
public protocol TLSContextFactory: AnyObject {
    /// `true` for the server side of the handshake.
    var isServer: Bool { get }
}

/// TLS over TCP: Twisted's `IReactorSSL`. Reactor thread only.
public protocol ReactorSSL: AnyObject {
    /// Listens like `listenTCP` and runs TLS, configured by
    /// `contextFactory`, on every accepted connection.
    ///
    /// - Throws: ``CannotListenError`` when the address cannot be bound.
    func listenSSL(
        _ port: Int, factory: Factory, contextFactory: any TLSContextFactory, backlog: Int, interface: String
    ) throws -> any ListeningPort

    /// Connects like `connectTCP` and runs a TLS client handshake.
    @discardableResult
    func connectSSL(
        host: String, port: Int, factory: ClientFactory, contextFactory: any TLSContextFactory,
        timeout: Double, bindAddress: BindAddress?
    ) -> any Connector
}
