import Testing
import TorsionCore
import TorsionProtocols

/// Records the events a wrapped protocol sees.
final class EventRecorder: Protocol {
    var events: [String] = []
    var received: [UInt8] = []
    var lostReason: Failure?

    override func connectionMade() { events.append("made") }
    override func dataReceived(_ data: [UInt8]) {
        events.append("data")
        received += data
    }
    override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        events.append("lost")
        lostReason = reason
    }
}

/// A factory that counts its starts and stops, and may refuse.
final class CountingFactory: ClientFactory {
    var starts = 0
    var stops = 0
    var refuses = false
    var clientEvents: [String] = []
    var built: [EventRecorder] = []

    override func buildProtocol(address: any Address) -> Protocol? {
        guard !refuses else { return nil }
        let recorder = EventRecorder()
        recorder.factory = self
        built.append(recorder)
        return recorder
    }
    override func startFactory() { starts += 1 }
    override func stopFactory() { stops += 1 }
    override func startedConnecting(_ connector: any Connector) { clientEvents.append("started") }
    override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        clientEvents.append("failed")
    }
    override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
        clientEvents.append("lost")
    }
}

final class StubConnector: Connector {
    func stopConnecting() throws {}
    func disconnect() {}
    func connect() {}
    var destination: any Address { IPv4Address(host: "192.0.2.1", port: 1) }
}

final class StubProducer: PushProducer {
    func pauseProducing() {}
    func resumeProducing() {}
    func stopProducing() {}
}

/// A wrapper subclass counting the bytes written through it.
final class CountingWrapper: ProtocolWrapper {
    var bytesWritten = 0
    override func write(_ data: [UInt8]) {
        bytesWritten += data.count
        super.write(data)
    }
}

final class CountingWrappingFactory: WrappingFactory {
    override func makeWrapper(for wrapped: Protocol) -> ProtocolWrapper {
        CountingWrapper(registry: self, wrapping: wrapped)
    }
}

let clientAddress = IPv4Address(host: "192.0.2.7", port: 40000)

@Suite("ProtocolWrapper and WrappingFactory")
struct WrappingFactoryTests {
    /// A wrapping factory, one connected wrapper, its wrapped recorder and the real transport.
    func connected() -> (WrappingFactory, ProtocolWrapper, EventRecorder, RecordingTransport) {
        let inner = CountingFactory()
        let factory = WrappingFactory(wrapping: inner)
        let wrapper = factory.buildProtocol(address: clientAddress) as! ProtocolWrapper
        let transport = wrapper.connectRecording()
        return (factory, wrapper, inner.built[0], transport)
    }

    @Test("the wrapped protocol is connected to the wrapper, which registers with its factory")
    func makeConnection() {
        let (factory, wrapper, wrapped, transport) = connected()
        #expect(wrapped.transport === wrapper)
        #expect(wrapper.transport === transport)
        #expect(wrapped.events == ["made"])
        #expect(wrapper.factory === factory)
        #expect(factory.protocols.map { ObjectIdentifier($0) } == [ObjectIdentifier(wrapper)])
    }

    @Test("received bytes reach the wrapped protocol")
    func dataForwarded() {
        let (_, wrapper, wrapped, _) = connected()
        wrapper.dataReceived(bytes("abc"))
        #expect(wrapped.received == bytes("abc"))
    }

    @Test("the wrapped protocol's writes and close requests reach the real transport")
    func transportCallsForwarded() throws {
        let (_, wrapper, wrapped, transport) = connected()
        let channel = try #require(wrapped.transport)
        channel.write(bytes("one"))
        channel.writeSequence([bytes("two"), bytes("three")])
        #expect(transport.writes == [bytes("one"), bytes("two"), bytes("three")])
        #expect(transport.writeSequenceCount == 1)
        #expect(!channel.disconnecting)
        channel.loseConnection()
        #expect(transport.loseConnectionCount == 1)
        #expect(channel.disconnecting)
        channel.abortConnection()
        #expect(transport.abortCount == 1)
        #expect(wrapper.disconnecting)
    }

    @Test("the wrapper is disconnecting when the real transport is")
    func disconnectingFollowsRealTransport() {
        let (_, wrapper, _, transport) = connected()
        #expect(!wrapper.disconnecting)
        transport.loseConnection()
        #expect(wrapper.disconnecting)
    }

    @Test("flow control, producers and addresses are those of the real transport")
    func producerAndAddresses() throws {
        let (_, wrapper, _, transport) = connected()
        wrapper.pauseProducing()
        wrapper.resumeProducing()
        wrapper.stopProducing()
        #expect([transport.pauseCount, transport.resumeCount, transport.stopCount] == [1, 1, 1])
        let producer = StubProducer()
        try wrapper.registerProducer(producer, streaming: true)
        #expect(transport.producer === producer)
        #expect(throws: ProducerAlreadyRegisteredError.self) {
            try wrapper.registerProducer(StubProducer(), streaming: true)
        }
        wrapper.unregisterProducer()
        #expect(transport.producer == nil)
        #expect(wrapper.peer.description == transport.peer.description)
        #expect(wrapper.host.description == transport.host.description)
    }

    @Test("before the connection the wrapper reports UnconnectedAddress")
    func unconnectedAddresses() {
        let wrapper = ProtocolWrapper(registry: nil, wrapping: EventRecorder())
        #expect(wrapper.peer is UnconnectedAddress)
        #expect(wrapper.host is UnconnectedAddress)
    }

    @Test("connectionLost is forwarded with its reason, unregisters and releases the wrapped protocol")
    func connectionLost() {
        let (factory, wrapper, wrapped, _) = connected()
        wrapper.connectionLost(reason: Failure(ConnectionLost("reset")))
        #expect(wrapped.events == ["made", "lost"])
        #expect(wrapped.lostReason?.error is ConnectionLost)
        #expect(factory.protocolCount == 0)
        #expect(wrapper.wrappedProtocol == nil)
        #expect(!wrapper.connected)
    }

    @Test("a refusal by the wrapped factory is a refusal")
    func refusalPassedOn() {
        let inner = CountingFactory()
        inner.refuses = true
        #expect(WrappingFactory(wrapping: inner).buildProtocol(address: clientAddress) == nil)
    }

    @Test("the wrapped factory is started with the first port and stopped after the last")
    func startStopForwarded() {
        let inner = CountingFactory()
        let factory = WrappingFactory(wrapping: inner)
        factory.doStart()
        factory.doStart()
        #expect(inner.starts == 1)
        #expect(inner.numPorts == 1)
        factory.doStop()
        #expect(inner.stops == 0)
        factory.doStop()
        #expect(inner.stops == 1)
        #expect(inner.numPorts == 0)
    }

    @Test("connection attempt events are forwarded to a wrapped client factory")
    func clientEventsForwarded() {
        let inner = CountingFactory()
        let factory = WrappingFactory(wrapping: inner)
        let connector = StubConnector()
        factory.startedConnecting(connector)
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        factory.clientConnectionLost(connector, reason: Failure(ConnectionDone()))
        #expect(inner.clientEvents == ["started", "failed", "lost"])
    }

    @Test("makeWrapper lets a subclass interpose its own wrapper")
    func customWrapper() throws {
        let inner = CountingFactory()
        let factory = CountingWrappingFactory(wrapping: inner)
        let wrapper = try #require(factory.buildProtocol(address: clientAddress) as? CountingWrapper)
        wrapper.connectRecording()
        inner.built[0].transport?.write(bytes("12345"))
        #expect(wrapper.bytesWritten == 5)
        #expect(factory.protocolCount == 1)
    }
}
