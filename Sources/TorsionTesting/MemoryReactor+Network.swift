import TorsionCore

// The network and process capabilities of MemoryReactor: each call is
// recorded and answered with a fake; nothing is bound, connected or run.

/// The address a fake IP port or connector reports: IPv6 for a literal
/// containing a colon, IPv4 otherwise (`""` stands for all interfaces).
private func ipAddress(_ kind: IPTransportKind, _ host: String, _ port: Int) -> any Address {
    if host.contains(":") { return IPv6Address(kind, host: host, port: port) }
    return IPv4Address(kind, host: host.isEmpty ? "0.0.0.0" : host, port: port)
}

/// The address of an adopted descriptor: a memory reactor cannot ask the
/// descriptor, so it reports the wildcard address of the family, port 0.
private func adoptedAddress(_ family: AddressFamily, _ kind: IPTransportKind) -> any Address {
    switch family {
    case .inet: IPv4Address(kind, host: "0.0.0.0", port: 0)
    case .inet6: IPv6Address(kind, host: "::", port: 0)
    case .unix: UNIXAddress(nil)
    }
}

extension MemoryReactor {
    /// Throws ``listenError`` when set.
    private func checkListen() throws {
        if let listenError { throw listenError }
    }

    /// A datagram port with `protocol` started on it, unless ``listenError``
    /// is set.
    private func openDatagramPort(
        host: any Address, maxPacketSize: Int, protocol: DatagramProtocol
    ) throws -> MemoryDatagramPort {
        try checkListen()
        return MemoryDatagramPort(host: host, maxPacketSize: maxPacketSize, protocol: `protocol`)
    }

    /// A connector for `factory`, recorded in ``connectors``, after telling
    /// the factory the attempt started (as Twisted's MemoryReactor does).
    private func startConnector(to destination: any Address, factory: ClientFactory) -> MemoryConnector {
        let connector = MemoryConnector(destination: destination, factory: factory)
        connectors.append(connector)
        factory.startedConnecting(connector)
        return connector
    }
}

extension MemoryReactor: ReactorTCP {
    /// Records the call in ``tcpServers`` and returns a listening
    /// ``MemoryListeningPort`` whose host is `interface` (`0.0.0.0` for
    /// `""`) and `port`. The factory is not started.
    ///
    /// - Throws: ``listenError`` when set.
    public func listenTCP(_ port: Int, factory: Factory, backlog: Int, interface: String) throws -> any ListeningPort {
        try checkListen()
        let listening = MemoryListeningPort(host: ipAddress(.tcp, interface, port))
        tcpServers.append(
            TCPServer(port: port, factory: factory, backlog: backlog, interface: interface, listeningPort: listening))
        return listening
    }

    /// Records the call in ``tcpClients`` and returns a connecting
    /// ``MemoryConnector`` to `host`:`port`; the factory's
    /// `startedConnecting` has been called.
    @discardableResult
    public func connectTCP(
        host: String, port: Int, factory: ClientFactory, timeout: Double, bindAddress: BindAddress?
    ) -> any Connector {
        let connector = startConnector(to: ipAddress(.tcp, host, port), factory: factory)
        tcpClients.append(
            TCPClient(
                host: host, port: port, factory: factory, timeout: timeout, bindAddress: bindAddress,
                connector: connector))
        return connector
    }
}

extension MemoryReactor: ReactorSSL {
    /// Records the call in ``sslServers``; otherwise like ``listenTCP(_:factory:backlog:interface:)``.
    ///
    /// - Throws: ``listenError`` when set.
    public func listenSSL(
        _ port: Int, factory: Factory, contextFactory: any TLSContextFactory, backlog: Int, interface: String
    ) throws -> any ListeningPort {
        try checkListen()
        let listening = MemoryListeningPort(host: ipAddress(.tcp, interface, port))
        sslServers.append(
            SSLServer(
                port: port, factory: factory, contextFactory: contextFactory, backlog: backlog, interface: interface,
                listeningPort: listening))
        return listening
    }

    /// Records the call in ``sslClients``; otherwise like
    /// ``connectTCP(host:port:factory:timeout:bindAddress:)``.
    @discardableResult
    public func connectSSL(
        host: String, port: Int, factory: ClientFactory, contextFactory: any TLSContextFactory,
        timeout: Double, bindAddress: BindAddress?
    ) -> any Connector {
        let connector = startConnector(to: ipAddress(.tcp, host, port), factory: factory)
        sslClients.append(
            SSLClient(
                host: host, port: port, factory: factory, contextFactory: contextFactory, timeout: timeout,
                bindAddress: bindAddress, connector: connector))
        return connector
    }
}

extension MemoryReactor: ReactorUNIX {
    /// Records the call in ``unixServers`` and returns a listening
    /// ``MemoryListeningPort`` at `path`. No file is created.
    ///
    /// - Throws: ``listenError`` when set.
    public func listenUNIX(_ path: String, factory: Factory, backlog: Int, mode: UInt32) throws -> any ListeningPort {
        try checkListen()
        let listening = MemoryListeningPort(host: UNIXAddress(path))
        unixServers.append(
            UNIXServer(path: path, factory: factory, backlog: backlog, mode: mode, listeningPort: listening))
        return listening
    }

    /// Records the call in ``unixClients`` and returns a connecting
    /// ``MemoryConnector`` to `path`; the factory's `startedConnecting`
    /// has been called.
    @discardableResult
    public func connectUNIX(_ path: String, factory: ClientFactory, timeout: Double) -> any Connector {
        let connector = startConnector(to: UNIXAddress(path), factory: factory)
        unixClients.append(UNIXClient(path: path, factory: factory, timeout: timeout, connector: connector))
        return connector
    }
}

extension MemoryReactor: ReactorUDP {
    /// Records the call in ``udpPorts`` and returns a ``MemoryDatagramPort``
    /// with `protocol` attached (its `startProtocol` has run).
    ///
    /// - Throws: ``listenError`` when set.
    public func listenUDP(
        _ port: Int, protocol: DatagramProtocol, interface: String, maxPacketSize: Int
    ) throws -> any DatagramPort {
        let datagramPort = try openDatagramPort(
            host: ipAddress(.udp, interface, port), maxPacketSize: maxPacketSize, protocol: `protocol`)
        udpPorts.append(
            UDPPort(
                port: port, protocol: `protocol`, interface: interface, maxPacketSize: maxPacketSize,
                datagramPort: datagramPort))
        return datagramPort
    }
}

extension MemoryReactor: ReactorMulticast {
    /// Records the call in ``multicastPorts`` and returns a
    /// ``MemoryDatagramPort`` (which records group membership) with
    /// `protocol` attached.
    ///
    /// - Throws: ``listenError`` when set.
    public func listenMulticast(
        _ port: Int, protocol: DatagramProtocol, interface: String, maxPacketSize: Int, listenMultiple: Bool
    ) throws -> any MulticastPort {
        let datagramPort = try openDatagramPort(
            host: ipAddress(.udp, interface, port), maxPacketSize: maxPacketSize, protocol: `protocol`)
        multicastPorts.append(
            MulticastPortRecord(
                port: port, protocol: `protocol`, interface: interface, maxPacketSize: maxPacketSize,
                listenMultiple: listenMultiple, datagramPort: datagramPort))
        return datagramPort
    }
}

extension MemoryReactor: ReactorUNIXDatagram {
    /// Records the call in ``unixDatagramPorts`` and returns a
    /// ``MemoryDatagramPort`` bound to `path` with `protocol` attached.
    ///
    /// - Throws: ``listenError`` when set.
    public func listenUNIXDatagram(
        _ path: String, protocol: DatagramProtocol, maxPacketSize: Int, mode: UInt32
    ) throws -> any DatagramPort {
        let datagramPort = try openDatagramPort(
            host: UNIXAddress(path), maxPacketSize: maxPacketSize, protocol: `protocol`)
        unixDatagramPorts.append(
            UNIXDatagramPort(
                path: path, protocol: `protocol`, maxPacketSize: maxPacketSize, mode: mode, isConnected: false,
                bindAddress: nil, datagramPort: datagramPort))
        return datagramPort
    }

    /// Records the call in ``unixDatagramPorts`` and returns a
    /// ``MemoryDatagramPort`` bound to `bindAddress` (unnamed when `nil`)
    /// and connected to `path`, with `protocol` attached.
    ///
    /// - Throws: ``listenError`` when set.
    public func connectUNIXDatagram(
        _ path: String, protocol: DatagramProtocol, maxPacketSize: Int, mode: UInt32, bindAddress: String?
    ) throws -> any DatagramPort {
        let datagramPort = try openDatagramPort(
            host: UNIXAddress(bindAddress), maxPacketSize: maxPacketSize, protocol: `protocol`)
        try datagramPort.connect(to: UNIXAddress(path))
        unixDatagramPorts.append(
            UNIXDatagramPort(
                path: path, protocol: `protocol`, maxPacketSize: maxPacketSize, mode: mode, isConnected: true,
                bindAddress: bindAddress, datagramPort: datagramPort))
        return datagramPort
    }
}

extension MemoryReactor: ReactorSocket {
    /// Records the call in ``adoptedPorts`` and returns a listening
    /// ``MemoryListeningPort`` reporting the family's wildcard address and
    /// port 0 (a memory reactor cannot ask the descriptor).
    ///
    /// - Throws: ``listenError`` when set.
    public func adoptStreamPort(
        _ fileDescriptor: Int32, addressFamily: AddressFamily, factory: Factory
    ) throws
        -> any ListeningPort
    {
        try checkListen()
        let listening = MemoryListeningPort(host: adoptedAddress(addressFamily, .tcp))
        adoptedPorts.append(
            AdoptedPort(
                fileDescriptor: fileDescriptor, addressFamily: addressFamily, factory: factory,
                listeningPort: listening))
        return listening
    }

    /// Records the call in ``adoptedStreamConnections``; no protocol is
    /// built.
    ///
    /// - Throws: ``listenError`` when set.
    public func adoptStreamConnection(_ fileDescriptor: Int32, addressFamily: AddressFamily, factory: Factory) throws {
        try checkListen()
        adoptedStreamConnections.append(
            AdoptedStreamConnection(fileDescriptor: fileDescriptor, addressFamily: addressFamily, factory: factory))
    }

    /// Records the call in ``adoptedDatagramPorts`` and returns a
    /// ``MemoryDatagramPort`` with `protocol` attached.
    ///
    /// - Throws: ``listenError`` when set.
    public func adoptDatagramPort(
        _ fileDescriptor: Int32, addressFamily: AddressFamily, protocol: DatagramProtocol, maxPacketSize: Int
    ) throws -> any DatagramPort {
        let datagramPort = try openDatagramPort(
            host: adoptedAddress(addressFamily, .udp), maxPacketSize: maxPacketSize, protocol: `protocol`)
        adoptedDatagramPorts.append(
            AdoptedDatagramPort(
                fileDescriptor: fileDescriptor, addressFamily: addressFamily, protocol: `protocol`,
                maxPacketSize: maxPacketSize, datagramPort: datagramPort))
        return datagramPort
    }
}

extension MemoryReactor: ReactorProcess {
    /// Records the call in ``spawnedProcesses`` and returns a
    /// ``MemoryProcessTransport`` attached to `processProtocol` (its
    /// `connectionMade` has run). Nothing is executed; process ids are
    /// handed out from 1000 upwards, one per call. Never throws.
    @discardableResult
    public func spawnProcess(
        _ processProtocol: ProcessProtocol,
        executable: String,
        arguments: [String],
        environment: [String: String]?,
        path: String?,
        childFDs: [Int32: ChildFileDescriptor]?
    ) throws -> any ProcessTransport {
        // Fake process ids start at 1000, above the range of system daemons,
        // so they read as ordinary user processes in test output.
        let transport = MemoryProcessTransport(
            pid: 1000 + Int32(spawnedProcesses.count), childFDs: childFDs ?? [0: .write, 1: .read, 2: .read])
        spawnedProcesses.append(
            SpawnedProcess(
                processProtocol: processProtocol, executable: executable, arguments: arguments,
                environment: environment, path: path, childFDs: childFDs, transport: transport))
        transport.attach(processProtocol)
        return transport
    }
}
