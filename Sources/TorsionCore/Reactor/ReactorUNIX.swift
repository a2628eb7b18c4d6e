/// UNIX-domain stream sockets: Twisted's `IReactorUNIX`. Reactor thread only.
public protocol ReactorUNIX: AnyObject {
    /// Listens on the socket file `path` (a leading NUL: Linux abstract
    /// namespace) with permissions `mode`. A stale socket file left by a
    /// dead process is replaced.
    ///
    /// - Throws: ``CannotListenError`` when the path cannot be bound.
    func listenUNIX(_ path: String, factory: Factory, backlog: Int, mode: UInt32) throws -> any ListeningPort

    /// Connects to the socket at `path` and reports to `factory`.
    @discardableResult
    func connectUNIX(_ path: String, factory: ClientFactory, timeout: Double) -> any Connector
}

extension ReactorUNIX {
    /// `listenUNIX` with Twisted's defaults: backlog 50, mode 0o666.
    public func listenUNIX(_ path: String, factory: Factory, backlog: Int = 50, mode: UInt32 = 0o666) throws
        -> any ListeningPort
    {
        try listenUNIX(path, factory: factory, backlog: backlog, mode: mode)
    }

    /// `connectUNIX` with Twisted's default 30 s timeout.
    @discardableResult
    public func connectUNIX(_ path: String, factory: ClientFactory, timeout: Double = 30) -> any Connector {
        connectUNIX(path, factory: factory, timeout: timeout)
    }
}
