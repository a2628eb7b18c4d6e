import Testing
import TorsionCore
import TorsionTesting

/// A client factory recording what it is told.
final class RecordingClientFactory: ClientFactory {
    private(set) var events: [String] = []
    private(set) var reasons: [Failure] = []

    override func startedConnecting(_ connector: any Connector) { events.append("startedConnecting") }

    override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        events.append("failed")
        reasons.append(reason)
    }

    override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
        events.append("lost")
        reasons.append(reason)
    }
}

final class FakeTLSContext: TLSContextFactory {
    let isServer: Bool
    init(isServer: Bool) { self.isServer = isServer }
}

/// A datagram protocol recording start and stop.
final class RecordingDatagramProtocol: DatagramProtocol {
    private(set) var events: [String] = []
    override func startProtocol() { events.append("start") }
    override func stopProtocol() { events.append("stop") }
}

@Suite("MemoryReactor records every call and answers with fakes")
struct MemoryReactorRecordsTests {
    @Test("listenTCP is recorded and returns a listening port on the interface (0.0.0.0 for all, IPv6 literals kept)")
    func listenTCP() throws {
        let reactor = MemoryReactor()
        let factory = Factory.forProtocol(AccumulatingProtocol.init)
        let port = try reactor.listenTCP(8080, factory: factory)
        let v6 = try reactor.listenTCP(8443, factory: factory, backlog: 5, interface: "::1")

        #expect(reactor.tcpServers.count == 2)
        let record = reactor.tcpServers[0]
        #expect(record.port == 8080 && record.backlog == 50 && record.interface == "")
        #expect(record.factory === factory)
        #expect(record.listeningPort === port)
        #expect((port.host as? IPv4Address) == IPv4Address(.tcp, host: "0.0.0.0", port: 8080))
        #expect((v6.host as? IPv6Address) == IPv6Address(.tcp, host: "::1", port: 8443))
        #expect(reactor.tcpServers[1].backlog == 5)
        #expect(factory.numPorts == 0)
    }

    @Test("a listening port stops and restarts listening")
    func listeningPortState() throws {
        let reactor = MemoryReactor()
        let port = try reactor.listenTCP(1, factory: Factory())
        let record = reactor.tcpServers[0].listeningPort
        #expect(record.listening)
        var stopped = false
        port.stopListening().addCallback { stopped = true }
        #expect(stopped)
        #expect(!record.listening)
        #expect(record.stopListeningCount == 1)
        try port.startListening()
        #expect(record.listening)
    }

    @Test("connectTCP is recorded, tells the factory startedConnecting and returns a connector")
    func connectTCP() throws {
        let reactor = MemoryReactor()
        let factory = RecordingClientFactory()
        let bind = BindAddress(host: "10.1.1.1")
        let connector = reactor.connectTCP(
            host: "example.com", port: 25, factory: factory, timeout: 7, bindAddress: bind)
        reactor.connectTCP(host: "2001:db8::1", port: 25, factory: factory)

        let record = try #require(reactor.tcpClients.first)
        #expect(record.host == "example.com" && record.port == 25 && record.timeout == 7)
        #expect(record.bindAddress == bind)
        #expect(record.factory === factory)
        #expect(record.connector === connector)
        #expect(reactor.tcpClients[1].timeout == 30 && reactor.tcpClients[1].bindAddress == nil)
        #expect(factory.events == ["startedConnecting", "startedConnecting"])
        #expect((connector.destination as? IPv4Address) == IPv4Address(.tcp, host: "example.com", port: 25))
        #expect((reactor.connectors[1].destination as? IPv6Address) == IPv6Address(.tcp, host: "2001:db8::1", port: 25))
        #expect(reactor.connectors.count == 2)
    }

    @Test("listenSSL and connectSSL are recorded with their context factories")
    func ssl() throws {
        let reactor = MemoryReactor()
        let serverContext = FakeTLSContext(isServer: true)
        let clientContext = FakeTLSContext(isServer: false)
        let factory = RecordingClientFactory()
        let port = try reactor.listenSSL(
            443, factory: factory, contextFactory: serverContext, backlog: 10, interface: "127.0.0.1")
        let connector = reactor.connectSSL(
            host: "example.com", port: 443, factory: factory, contextFactory: clientContext, timeout: 3,
            bindAddress: nil)

        let server = try #require(reactor.sslServers.first)
        #expect(server.port == 443 && server.backlog == 10 && server.interface == "127.0.0.1")
        #expect(server.contextFactory === serverContext)
        #expect(server.listeningPort === port)
        #expect((port.host as? IPv4Address) == IPv4Address(.tcp, host: "127.0.0.1", port: 443))
        let client = try #require(reactor.sslClients.first)
        #expect(client.host == "example.com" && client.port == 443 && client.timeout == 3)
        #expect(client.contextFactory === clientContext)
        #expect(client.connector === connector)
        #expect(factory.events == ["startedConnecting"])
        #expect(reactor.connectors.count == 1)
    }

    @Test("listenUNIX and connectUNIX are recorded with UNIX addresses")
    func unix() throws {
        let reactor = MemoryReactor()
        let factory = RecordingClientFactory()
        let port = try reactor.listenUNIX("/run/app.sock", factory: factory, backlog: 3, mode: 0o600)
        let connector = reactor.connectUNIX("/run/app.sock", factory: factory, timeout: 2)

        let server = try #require(reactor.unixServers.first)
        #expect(server.path == "/run/app.sock" && server.backlog == 3 && server.mode == 0o600)
        #expect(server.listeningPort === port)
        #expect((port.host as? UNIXAddress) == UNIXAddress("/run/app.sock"))
        let client = try #require(reactor.unixClients.first)
        #expect(client.path == "/run/app.sock" && client.timeout == 2)
        #expect(client.connector === connector)
        #expect((connector.destination as? UNIXAddress) == UNIXAddress("/run/app.sock"))
        #expect(factory.events == ["startedConnecting"])
    }

    @Test("listenUDP is recorded and starts the protocol on a datagram port")
    func udp() throws {
        let reactor = MemoryReactor()
        let proto = RecordingDatagramProtocol()
        let port = try reactor.listenUDP(5353, protocol: proto, interface: "::", maxPacketSize: 512)

        let record = try #require(reactor.udpPorts.first)
        #expect(record.port == 5353 && record.interface == "::" && record.maxPacketSize == 512)
        #expect(record.protocol === proto)
        #expect(record.datagramPort === port)
        #expect(port.maxPacketSize == 512)
        #expect((port.host as? IPv6Address) == IPv6Address(.udp, host: "::", port: 5353))
        #expect(proto.events == ["start"])
        #expect(proto.transport === port)
    }

    @Test("listenMulticast is recorded and its port records group membership")
    func multicast() throws {
        let reactor = MemoryReactor()
        let proto = RecordingDatagramProtocol()
        let port = try reactor.listenMulticast(5000, protocol: proto, listenMultiple: true)
        let record = try #require(reactor.multicastPorts.first)
        #expect(record.port == 5000 && record.listenMultiple && record.maxPacketSize == 8192)
        #expect(record.datagramPort === port)

        var joined = false
        port.joinGroup("224.0.0.1", interface: "0.0.0.0").addCallback { joined = true }
        _ = port.joinGroup("224.0.0.2", interface: "0.0.0.0")
        _ = port.leaveGroup("224.0.0.1", interface: "0.0.0.0")
        port.multicastTTL = 4
        port.multicastLoopback = false
        #expect(joined)
        #expect(record.datagramPort.joinedGroups == [.init(address: "224.0.0.2", interface: "0.0.0.0")])
        #expect(port.multicastTTL == 4 && !port.multicastLoopback)
    }

    @Test("UNIX datagram listen and connect calls are recorded; the connected port writes to its path")
    func unixDatagram() throws {
        let reactor = MemoryReactor()
        let server = RecordingDatagramProtocol()
        let client = RecordingDatagramProtocol()
        let listening = try reactor.listenUNIXDatagram("/run/log.sock", protocol: server)
        let connected = try reactor.connectUNIXDatagram(
            "/run/log.sock", protocol: client, maxPacketSize: 100, mode: 0o600, bindAddress: "/run/me.sock")

        #expect(reactor.unixDatagramPorts.count == 2)
        #expect(!reactor.unixDatagramPorts[0].isConnected)
        #expect(reactor.unixDatagramPorts[1].isConnected)
        #expect(reactor.unixDatagramPorts[1].bindAddress == "/run/me.sock")
        #expect((listening.host as? UNIXAddress) == UNIXAddress("/run/log.sock"))
        #expect((connected.host as? UNIXAddress) == UNIXAddress("/run/me.sock"))

        try connected.write(bytes("hi"), to: nil)
        let sent = try #require(reactor.unixDatagramPorts[1].datagramPort.written.first)
        #expect(sent.data == bytes("hi"))
        #expect((sent.address as? UNIXAddress) == UNIXAddress("/run/log.sock"))
    }

    @Test("adopted ports, connections and datagram ports are recorded")
    func adopt() throws {
        let reactor = MemoryReactor()
        let factory = Factory()
        let proto = RecordingDatagramProtocol()
        let port = try reactor.adoptStreamPort(7, addressFamily: .inet6, factory: factory)
        try reactor.adoptStreamConnection(8, addressFamily: .unix, factory: factory)
        let datagram = try reactor.adoptDatagramPort(9, addressFamily: .inet, protocol: proto, maxPacketSize: 1500)

        let adopted = try #require(reactor.adoptedPorts.first)
        #expect(adopted.fileDescriptor == 7 && adopted.addressFamily == .inet6 && adopted.factory === factory)
        #expect(adopted.listeningPort === port)
        #expect((port.host as? IPv6Address) == IPv6Address(.tcp, host: "::", port: 0))
        let connection = try #require(reactor.adoptedStreamConnections.first)
        #expect(connection.fileDescriptor == 8 && connection.addressFamily == .unix)
        let adoptedDatagram = try #require(reactor.adoptedDatagramPorts.first)
        #expect(adoptedDatagram.fileDescriptor == 9 && adoptedDatagram.maxPacketSize == 1500)
        #expect(adoptedDatagram.datagramPort === datagram)
        #expect((datagram.host as? IPv4Address) == IPv4Address(.udp, host: "0.0.0.0", port: 0))
        #expect(proto.events == ["start"])
    }

    @Test("with listenError set, listen and adopt calls throw it and record nothing")
    func listenError() {
        let reactor = MemoryReactor()
        reactor.listenError = CannotListenError(interface: "", port: "80", reason: "in use")
        let proto = DatagramProtocol()
        #expect(throws: CannotListenError.self) { try reactor.listenTCP(80, factory: Factory()) }
        #expect(throws: CannotListenError.self) { try reactor.listenUNIX("/s", factory: Factory()) }
        #expect(throws: CannotListenError.self) { try reactor.listenUDP(80, protocol: proto) }
        #expect(throws: CannotListenError.self) {
            try reactor.listenSSL(
                80, factory: Factory(), contextFactory: FakeTLSContext(isServer: true), backlog: 1, interface: "")
        }
        #expect(throws: CannotListenError.self) { try reactor.listenMulticast(80, protocol: proto) }
        #expect(throws: CannotListenError.self) { try reactor.listenUNIXDatagram("/d", protocol: proto) }
        #expect(throws: CannotListenError.self) {
            try reactor.adoptStreamPort(3, addressFamily: .inet, factory: Factory())
        }
        #expect(throws: CannotListenError.self) {
            try reactor.adoptStreamConnection(3, addressFamily: .inet, factory: Factory())
        }
        #expect(throws: CannotListenError.self) {
            try reactor.adoptDatagramPort(3, addressFamily: .inet, protocol: proto, maxPacketSize: 1)
        }
        #expect(reactor.tcpServers.isEmpty && reactor.unixServers.isEmpty && reactor.udpPorts.isEmpty)
        #expect(reactor.sslServers.isEmpty && reactor.multicastPorts.isEmpty && reactor.unixDatagramPorts.isEmpty)
        #expect(reactor.adoptedPorts.isEmpty && reactor.adoptedStreamConnections.isEmpty)
        #expect(reactor.adoptedDatagramPorts.isEmpty)
        #expect(proto.numPorts == 0)
    }

    @Test("spawnProcess is recorded and connects the protocol to a fake process transport")
    func spawnProcess() throws {
        final class Child: ProcessProtocol {
            var made = false
            override func connectionMade() { made = true }
        }
        let reactor = MemoryReactor()
        let first = Child()
        let transport = try reactor.spawnProcess(
            first, executable: "/bin/cat", arguments: ["cat", "-u"], environment: ["A": "1"], path: "/tmp")
        try reactor.spawnProcess(
            Child(), executable: "/bin/true", arguments: ["true"], environment: nil, path: nil,
            childFDs: [0: .inherit(0)])

        let record = try #require(reactor.spawnedProcesses.first)
        #expect(record.executable == "/bin/cat" && record.arguments == ["cat", "-u"])
        #expect(record.environment == ["A": "1"] && record.path == "/tmp" && record.childFDs == nil)
        #expect(record.transport === transport)
        #expect(record.processProtocol === first)
        #expect(first.made && first.transport === transport)
        #expect(transport.pid == 1000)
        #expect(reactor.spawnedProcesses[1].transport.pid == 1001)
        #expect(reactor.spawnedProcesses[1].childFDs == [0: .inherit(0)])
    }
}

@Suite("MemoryConnector")
struct MemoryConnectorTests {
    private func connecting() -> (MemoryReactor, RecordingClientFactory, MemoryConnector) {
        let reactor = MemoryReactor()
        let factory = RecordingClientFactory()
        factory.makeProtocol = AccumulatingProtocol.init
        reactor.connectTCP(host: "192.0.2.1", port: 80, factory: factory)
        return (reactor, factory, reactor.connectors[0])
    }

    @Test("completeConnection builds the protocol and connects it to a StringTransport whose peer is the destination")
    func completeConnection() throws {
        let (_, factory, connector) = connecting()
        let proto = try #require(try connector.completeConnection() as? AccumulatingProtocol)
        #expect(connector.state == .connected)
        #expect(proto.made)
        #expect(proto.factory === factory)
        #expect(connector.transport === proto.transport)
        #expect((connector.transport?.peer as? IPv4Address) == IPv4Address(.tcp, host: "192.0.2.1", port: 80))
    }

    @Test("a factory refusing the connection gets clientConnectionLost with ConnectionDone")
    func refusedByFactory() throws {
        let (_, factory, connector) = connecting()
        factory.makeProtocol = nil
        #expect(try connector.completeConnection() == nil)
        #expect(connector.state == .disconnected)
        #expect(factory.events == ["startedConnecting", "lost"])
        #expect(factory.reasons.first?.check(ConnectionDone.self) != nil)
    }

    @Test("connectionFailed tells the factory; connect then starts a new attempt")
    func failAndReconnect() throws {
        let (_, factory, connector) = connecting()
        try connector.connectionFailed(reason: ConnectionRefused())
        #expect(connector.state == .disconnected)
        #expect(factory.reasons.first?.check(ConnectionRefused.self) != nil)
        connector.connect()
        #expect(connector.state == .connecting)
        #expect(connector.attempts == 2)
        #expect(factory.events == ["startedConnecting", "failed", "startedConnecting"])
    }

    @Test("connect while connecting or connected is ignored")
    func connectIgnoredWhenBusy() throws {
        let (_, factory, connector) = connecting()
        connector.connect()
        try connector.completeConnection()
        connector.connect()
        #expect(connector.attempts == 1)
        #expect(factory.events == ["startedConnecting"])
    }

    @Test("connectionLost tells the protocol, then the factory")
    func connectionLost() throws {
        let (_, factory, connector) = connecting()
        let proto = try #require(try connector.completeConnection() as? AccumulatingProtocol)
        try connector.connectionLost(reason: ConnectionLost())
        #expect(proto.closedReason?.check(ConnectionLost.self) != nil)
        #expect(factory.events == ["startedConnecting", "lost"])
        #expect(connector.state == .disconnected)
    }

    @Test(
        "stopConnecting fails the attempt with ConnectingCancelledError; when not connecting it throws NotConnectingError"
    )
    func stopConnecting() throws {
        let (_, factory, connector) = connecting()
        try connector.stopConnecting()
        #expect(connector.stoppedConnecting)
        #expect(factory.reasons.first?.check(ConnectingCancelledError.self) != nil)
        #expect(throws: NotConnectingError.self) { try connector.stopConnecting() }
    }

    @Test("disconnect stops an attempt, or asks an established transport to lose the connection")
    func disconnect() throws {
        let (_, factory, connector) = connecting()
        connector.disconnect()
        #expect(connector.stoppedConnecting)
        #expect(factory.events == ["startedConnecting", "failed"])

        connector.connect()
        try connector.completeConnection()
        connector.disconnect()
        #expect(connector.transport?.disconnecting == true)
        #expect(connector.disconnectCount == 2)
        connector.disconnect()
        #expect(connector.disconnectCount == 3)
    }

    @Test("driving a connector in the wrong state throws MemoryConnectorStateError")
    func wrongStateThrows() throws {
        let (_, _, connector) = connecting()
        #expect(
            throws: MemoryConnectorStateError(operation: "connectionLost", expected: .connected, actual: .connecting)
        ) {
            try connector.connectionLost()
        }
        try connector.completeConnection()
        #expect(throws: MemoryConnectorStateError.self) { try connector.completeConnection() }
        #expect(throws: MemoryConnectorStateError.self) { try connector.connectionFailed(reason: ConnectionRefused()) }
        let error = MemoryConnectorStateError(operation: "connectionLost", expected: .connected, actual: .connecting)
        #expect(error.description.contains("needs a connected connector, but it is connecting"))
    }
}

@Suite("MemoryDatagramPort")
struct MemoryDatagramPortTests {
    @Test("writes are recorded with their destination, the connected peer when none is given")
    func writes() throws {
        let port = MemoryDatagramPort()
        let peer = IPv4Address(.udp, host: "192.0.2.9", port: 53)
        try port.write(bytes("a"), to: IPv4Address(.udp, host: "192.0.2.1", port: 9))
        #expect(throws: InvalidAddressError.self) { try port.write(bytes("b"), to: nil) }
        try port.connect(to: peer)
        try port.write(bytes("c"), to: nil)
        #expect(port.written.map(\.data) == [bytes("a"), bytes("c")])
        #expect((port.written[1].address as? IPv4Address) == peer)
        #expect((port.connectedPeer as? IPv4Address) == peer)
    }

    @Test("a protocol writing through its transport lands in written")
    func protocolWrites() throws {
        final class Pinger: DatagramProtocol {
            override func startProtocol() {
                try? transport?.write(bytes("ping"), to: IPv4Address(.udp, host: "192.0.2.2", port: 7))
            }
        }
        let port = MemoryDatagramPort(protocol: Pinger())
        #expect(port.written.map(\.data) == [bytes("ping")])
    }

    @Test("stopListening stops the protocol once and releases it")
    func stopListening() {
        let proto = RecordingDatagramProtocol()
        let port = MemoryDatagramPort(protocol: proto)
        var fired = false
        port.stopListening().addCallback { fired = true }
        port.stopListening()
        #expect(fired)
        #expect(!port.listening)
        #expect(proto.events == ["start", "stop"])
        #expect(port.protocol == nil)
        #expect(proto.transport == nil)
    }
}

@Suite("MemoryProcessTransport")
struct MemoryProcessTransportTests {
    final class Child: ProcessProtocol {
        var events: [String] = []
        override func outReceived(_ data: [UInt8]) { events.append("out \(String(decoding: data, as: UTF8.self))") }
        override func errReceived(_ data: [UInt8]) { events.append("err \(String(decoding: data, as: UTF8.self))") }
        override func childDataReceived(_ childFD: Int32, _ data: [UInt8]) {
            if childFD > 2 { events.append("fd\(childFD)") }
            super.childDataReceived(childFD, data)
        }
        override func childConnectionLost(_ childFD: Int32) { events.append("closed \(childFD)") }
        override func processExited(reason: Failure) { events.append("exited \(reason.errorType)") }
        var endReason: Failure?
        override func processEnded(reason: Failure) {
            endReason = reason
            events.append("ended \(reason.errorType)")
        }
    }

    private func spawn(childFDs: [Int32: ChildFileDescriptor]? = nil) throws -> (Child, MemoryProcessTransport) {
        let reactor = MemoryReactor()
        let child = Child()
        try reactor.spawnProcess(
            child, executable: "/bin/sh", arguments: ["sh"], environment: nil, path: nil, childFDs: childFDs)
        return (child, reactor.spawnedProcesses[0].transport)
    }

    @Test("writes go to the child's descriptors until they are closed")
    func writes() throws {
        let (_, transport) = try spawn(childFDs: [0: .write, 1: .read, 3: .write])
        transport.write(bytes("in"))
        transport.writeToChild(3, bytes("three"))
        transport.closeStdin()
        transport.write(bytes("late"))
        transport.writeToChild(9, bytes("unmapped"))
        #expect(transport.childInput == [0: bytes("in"), 3: bytes("three")])
    }

    @Test("closing a descriptor tells the protocol once")
    func closeChildFD() throws {
        let (child, transport) = try spawn()
        transport.closeStdout()
        transport.closeStdout()
        transport.closeStderr()
        transport.closeChildFD(7)
        #expect(child.events == ["closed 1", "closed 2"])
        #expect(transport.closedChildFDs == [1, 2])
    }

    @Test("loseConnection closes the three standard descriptors; abort also sets aborted")
    func loseConnection() throws {
        let (child, transport) = try spawn()
        transport.abortConnection()
        #expect(transport.disconnecting && transport.aborted)
        #expect(Set(transport.closedChildFDs) == [0, 1, 2])
        #expect(child.events.count == 3)
    }

    @Test("the test plays the child's output, routed by descriptor")
    func deliver() throws {
        let (child, transport) = try spawn(childFDs: [1: .read, 2: .read, 4: .read])
        transport.deliver(bytes("hello"))
        transport.deliver(bytes("oops"), fromChildFD: 2)
        transport.deliver(bytes("x"), fromChildFD: 4)
        transport.closeStdout()
        transport.deliver(bytes("after close"))
        #expect(child.events == ["out hello", "err oops", "fd4", "closed 1"])
    }

    @Test("endProcess reports exited, the open descriptors and ended, with ProcessDone for status 0")
    func endProcessDone() throws {
        let (child, transport) = try spawn()
        transport.closeStdin()
        try transport.endProcess()
        #expect(child.events == ["closed 0", "exited ProcessDone", "closed 1", "closed 2", "ended ProcessDone"])
        #expect(transport.pid == nil)
        #expect(transport.processProtocol == nil)
        #expect(throws: ProcessExitedAlready.self) { try transport.endProcess() }
    }

    @Test(
        "a non-zero status or a signal ends with ProcessTerminated",
        arguments: [
            (Int32(3), Int32?.none, ProcessTerminated(exitCode: 3)),
            (Int32(0), Int32?.some(9), ProcessTerminated(signal: 9)),
        ])
    func endProcessTerminated(exitCode: Int32, signal: Int32?, expected: ProcessTerminated) throws {
        let (child, transport) = try spawn()
        try transport.endProcess(exitCode: exitCode, signal: signal)
        #expect(child.events.first == "exited ProcessTerminated")
        #expect(child.events.last == "ended ProcessTerminated")
        #expect(child.endReason?.error(as: ProcessTerminated.self) == expected)
    }

    @Test("signals are recorded until the process ended, then ProcessExitedAlready is thrown")
    func signals() throws {
        let (_, transport) = try spawn()
        try transport.signalProcess(15)
        try transport.endProcess()
        #expect(throws: ProcessExitedAlready.self) { try transport.signalProcess(9) }
        #expect(transport.signals == [15])
    }

    @Test("producer registration is strict and flow control moves producerState")
    func producer() throws {
        let (_, transport) = try spawn()
        try transport.registerProducer(RecordingPushProducer(), streaming: true)
        #expect(throws: ProducerAlreadyRegisteredError.self) {
            try transport.registerProducer(RecordingPushProducer(), streaming: true)
        }
        #expect(transport.streaming == true)
        transport.unregisterProducer()
        #expect(transport.producer == nil)
        transport.pauseProducing()
        #expect(transport.producerState == .paused)
        transport.resumeProducing()
        transport.stopProducing()
        transport.resumeProducing()
        #expect(transport.producerState == .stopped)
        #expect(transport.host.description == "ProcessAddress()")
    }
}
