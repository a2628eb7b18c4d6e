import TorsionCore

// MARK: - ReactorUNIX

extension Reactor: ReactorUNIX {
    /// Listens on the UNIX socket `path` (a leading NUL: Linux's abstract
    /// namespace, no file) with a queue of `backlog`. The socket file gets
    /// permissions `mode`; a stale file left by a server that died is
    /// replaced, a live one refused; `stopListening()` removes the file.
    /// Each accepted connection gets a protocol from `factory`. Reactor
    /// thread only.
    ///
    /// - Throws: ``CannotListenError`` when the path is in use, not
    ///   writable, too long, or a file that is not a socket.
    public func listenUNIX(_ path: String, factory: Factory, backlog: Int, mode: UInt32) throws -> any ListeningPort {
        assertInIOThread()
        let listeningPort = StreamPort(
            reactor: self, endpoint: .unix(UNIXAddress(path), mode: mode), factory: factory, backlog: backlog)
        try listeningPort.startListening()
        return listeningPort
    }

    /// Connects to the UNIX socket `path` and reports to `factory` as
    /// ``connectTCP(host:port:factory:timeout:bindAddress:)`` does; a
    /// missing path fails with ``ConnectError``, a socket nobody accepts
    /// on with ``ConnectionRefused``. Reactor thread only.
    @discardableResult
    public func connectUNIX(_ path: String, factory: ClientFactory, timeout: Double) -> any Connector {
        assertInIOThread()
        let connector = StreamConnector(reactor: self, target: .unix(path: path), factory: factory, timeout: timeout)
        connector.connect()
        return connector
    }
}
