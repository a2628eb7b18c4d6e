import TorsionCore

// MARK: - ReactorTCP

extension Reactor: ReactorTCP {
    /// Listens for TCP connections on `port` (0: the system picks one,
    /// reported by the port's `host`) of `interface` (`""`: every IPv4
    /// interface; a literal containing `:` listens on IPv6), with
    /// `SO_REUSEADDR` and a queue of `backlog`. Each accepted connection
    /// gets a protocol from `factory`, which is started now and stopped
    /// after `stopListening()`. Reactor thread only.
    ///
    /// - Throws: ``CannotListenError`` when the address cannot be bound
    ///   (in use, not local, not numeric, port outside 0–65535).
    public func listenTCP(_ port: Int, factory: Factory, backlog: Int, interface: String) throws -> any ListeningPort {
        try listenTCP(port, factory: factory, backlog: backlog, interface: interface, reusePort: false)
    }

    /// ``listenTCP(_:factory:backlog:interface:)`` with `SO_REUSEPORT`
    /// when `reusePort` is set: several sockets, in this process or
    /// others, may then listen on the same port and the kernel spreads
    /// the connections among them. Reactor thread only.
    ///
    /// - Throws: ``CannotListenError`` as the other `listenTCP`.
    public func listenTCP(
        _ port: Int, factory: Factory, backlog: Int = 50, interface: String = "", reusePort: Bool
    ) throws -> any ListeningPort {
        assertInIOThread()
        let address: SocketAddress =
            interface.contains(":")
            ? .ipv6(IPv6Address(.tcp, host: interface, port: port))
            : .ipv4(IPv4Address(.tcp, host: interface, port: port))
        let listeningPort = StreamPort(
            reactor: self, endpoint: .tcp(address, reusePort: reusePort), factory: factory, backlog: backlog)
        try listeningPort.startListening()
        return listeningPort
    }

    /// Connects to `host`:`port` — an IP literal, or a name resolved
    /// with ``resolve(_:timeout:)`` first — from `bindAddress` when given,
    /// and reports to `factory` (`startedConnecting` now, then
    /// `clientConnectionFailed` or a connection and later
    /// `clientConnectionLost`). The attempt fails with ``TimeoutError``
    /// after `timeout` seconds (0: no limit), ``ConnectionRefused``,
    /// ``DNSLookupError`` or ``ConnectError``. Reactor thread only.
    @discardableResult
    public func connectTCP(
        host: String, port: Int, factory: ClientFactory, timeout: Double, bindAddress: BindAddress?
    ) -> any Connector {
        assertInIOThread()
        let connector = StreamConnector(
            reactor: self, target: .tcp(host: host, port: port, bindAddress: bindAddress), factory: factory,
            timeout: timeout)
        connector.connect()
        return connector
    }
}
