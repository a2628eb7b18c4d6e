import Testing
import TorsionCore
import TorsionTesting

/// Records, in a shared log, what each side receives, to check ordering.
final class LoggingProtocol: AccumulatingProtocol {
    let name: String
    let log: SharedLog
    init(_ name: String, log: SharedLog) {
        self.name = name
        self.log = log
    }
    override func dataReceived(_ data: [UInt8]) {
        super.dataReceived(data)
        log.entries.append("\(name) got \(String(decoding: data, as: UTF8.self))")
    }
    override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        log.entries.append("\(name) lost \(reason.errorType)")
    }
}

final class SharedLog {
    var entries: [String] = []
}

/// Two connected ``LoggingProtocol``s sharing one log.
func loggedPair() throws -> (SharedLog, LoggingProtocol, LoggingProtocol, IOPump) {
    let log = SharedLog()
    let (client, server, pump) = try connectedPair(
        server: LoggingProtocol("server", log: log), client: LoggingProtocol("client", log: log))
    return (log, client, server, pump)
}

@Suite("connectedPair and IOPump")
struct IOPumpTests {
    @Test("connectedPair connects both protocols and delivers greetings when greet is true")
    func greeting() throws {
        let (client, server, pump) = try connectedPair(server: Greeter("220 ready\r\n"), client: AccumulatingProtocol())
        #expect(server.made && client.made)
        #expect(client.dataString == "220 ready\r\n")
        #expect(pump.server.isServer && !pump.client.isServer)
        #expect(pump.client.protocol === client && pump.server.protocol === server)
    }

    @Test("without greet nothing moves until the test pumps")
    func noGreet() throws {
        let (client, _, pump) = try connectedPair(server: Greeter("hi"), client: AccumulatingProtocol(), greet: false)
        #expect(client.data.isEmpty)
        #expect(pump.server.pendingBytes == bytes("hi"))
        #expect(pump.pump())
        #expect(client.dataString == "hi")
        #expect(!pump.pump())
    }

    @Test("an echo round trip takes one step each way")
    func echoRoundTrip() throws {
        let (client, server, pump) = try connectedPair(server: Echo(), client: AccumulatingProtocol())
        client.transport?.write("ping")
        #expect(pump.pump())
        #expect(server.dataString == "ping")
        #expect(client.data.isEmpty)
        #expect(pump.pump())
        #expect(client.dataString == "ping")
        #expect(try !pump.flush())
    }

    @Test("each end's address is the other's peer")
    func addresses() throws {
        let (client, server, _) = try connectedPair(
            server: AccumulatingProtocol(), client: AccumulatingProtocol(),
            serverAddress: IPv4Address(host: "127.0.0.1", port: 80),
            clientAddress: IPv4Address(host: "127.0.0.1", port: 40000))
        #expect((server.transport?.host as? IPv4Address)?.port == 80)
        #expect((server.transport?.peer as? IPv4Address)?.port == 40000)
        #expect((client.transport?.host as? IPv4Address)?.port == 40000)
        #expect((client.transport?.peer as? IPv4Address)?.port == 80)
    }

    @Test("a step delivers client-to-server first, then server-to-client, each buffer as one chunk")
    func deterministicOrder() throws {
        let (log, client, server, pump) = try loggedPair()
        server.transport?.write("s1")
        client.transport?.write("c1")
        client.transport?.writeSequence([bytes("c2"), bytes("c3")])
        server.transport?.write("s2")
        pump.pump()
        #expect(log.entries == ["server got c1c2c3", "client got s1s2"])
    }

    @Test("bytes written while receiving wait for the next step")
    func writesDuringDeliveryWait() throws {
        let (client, server, pump) = try connectedPair(server: Echo(), client: Echo())
        client.transport?.write("x")
        pump.pump()
        #expect(server.dataString == "x" && client.data.isEmpty)
        pump.pump()
        #expect(client.dataString == "x")
        pump.pump()
        #expect(server.dataString == "xx")
    }

    @Test("flush stops after its step limit with IOPumpFlushLimitError when both ends never stop talking")
    func flushLimit() throws {
        let (client, _, pump) = try connectedPair(server: Echo(), client: Echo())
        client.transport?.write("forever")
        #expect(throws: IOPumpFlushLimitError(maxSteps: 10)) { try pump.flush(maxSteps: 10) }
        #expect(
            IOPumpFlushLimitError(maxSteps: 10).description == "IOPumpFlushLimitError: still busy after 10 pump steps")
    }

    @Test("loseConnection flushes pending bytes, then both ends get ConnectionDone, the closing end first")
    func loseConnectionPropagates() throws {
        let (log, client, server, pump) = try loggedPair()
        server.transport?.write("bye")
        server.transport?.loseConnection()
        server.transport?.write("really")
        try pump.flush()
        #expect(log.entries == ["client got byereally", "server lost ConnectionDone", "client lost ConnectionDone"])
        #expect(client.lostReasons.count == 1 && server.lostReasons.count == 1)
        #expect(pump.client.disconnected && pump.server.disconnected)
        #expect(pump.client.protocol == nil && pump.server.protocol == nil)
    }

    @Test("writes after the connection was lost are dropped")
    func writesAfterLossAreDropped() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        client.transport?.loseConnection()
        try pump.flush()
        client.transport?.write("late")
        #expect(pump.client.pendingBytes.isEmpty)
        #expect(try !pump.flush())
        #expect(server.data.isEmpty)
    }

    @Test("abortConnection discards pending bytes: ConnectionAborted here, ConnectionLost at the peer")
    func abortPropagates() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        client.transport?.write("never sent")
        server.transport?.write("never received")
        client.transport?.abortConnection()
        client.transport?.write("dropped")
        #expect(pump.pump())
        #expect(client.closedReason?.check(ConnectionAborted.self) != nil)
        #expect(server.closedReason?.check(ConnectionLost.self) != nil)
        #expect(server.data.isEmpty && client.data.isEmpty)
        #expect(try !pump.flush())
        #expect(client.lostReasons.count == 1 && server.lostReasons.count == 1)
    }

    @Test("a half-close reaches a half-closeable peer as readConnectionLost; the connection stays open")
    func halfClose() throws {
        let (client, server, pump) = try connectedPair(server: HalfCloseRecorder(), client: HalfCloseRecorder())
        client.transport?.write("request")
        (client.transport as? any HalfCloseableTransport)?.loseWriteConnection()
        try pump.flush()
        #expect(server.dataString == "request")
        #expect(server.events == ["readConnectionLost"])
        #expect(client.events == ["writeConnectionLost"])
        #expect(!client.closed && !server.closed)

        client.transport?.write("ignored after half-close")
        server.transport?.write("response")
        server.transport?.loseConnection()
        try pump.flush()
        #expect(client.dataString == "response")
        #expect(server.data == bytes("request"))
        #expect(client.closedReason?.check(ConnectionDone.self) != nil)
        #expect(server.closedReason?.check(ConnectionDone.self) != nil)
    }

    @Test("a half-close to a peer that is not half-closeable closes the connection")
    func halfCloseToPlainPeer() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: HalfCloseRecorder())
        (client.transport as? any HalfCloseableTransport)?.loseWriteConnection()
        try pump.flush()
        #expect(server.closedReason?.check(ConnectionDone.self) != nil)
        #expect(client.closedReason?.check(ConnectionDone.self) != nil)
        #expect(client.events.isEmpty)
    }

    @Test("both ends half-closing closes the connection")
    func bothHalfClose() throws {
        let (client, server, pump) = try connectedPair(server: HalfCloseRecorder(), client: HalfCloseRecorder())
        (client.transport as? any HalfCloseableTransport)?.loseWriteConnection()
        (server.transport as? any HalfCloseableTransport)?.loseWriteConnection()
        try pump.flush()
        #expect(server.events == ["readConnectionLost"])
        #expect(client.events == ["writeConnectionLost"])
        #expect(client.closed && server.closed)
    }

    @Test("a paused end receives nothing until it resumes; the bytes wait in the sender's buffer")
    func pausedReading() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        server.transport?.pauseProducing()
        client.transport?.write("held")
        #expect(try !pump.flush())
        #expect(server.data.isEmpty)
        #expect(pump.client.pendingBytes == bytes("held"))
        server.transport?.resumeProducing()
        try pump.flush()
        #expect(server.dataString == "held")
    }

    @Test("stopProducing on a transport closes the connection")
    func stopProducingCloses() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        server.transport?.stopProducing()
        try pump.flush()
        #expect(pump.server.producerState == .stopped)
        #expect(client.closed && server.closed)
    }

    @Test("a streaming producer is paused above the high-water mark and resumed when the pump drains the buffer")
    func streamingProducerBackpressure() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        let producer = RecordingPushProducer()
        pump.client.highWaterMark = 4
        try client.transport?.registerProducer(producer, streaming: true)
        client.transport?.write("1234")
        #expect(producer.calls.isEmpty)
        client.transport?.write("5")
        client.transport?.write("6")
        #expect(producer.calls == ["pause"])
        #expect(pump.client.producerPaused)
        pump.pump()
        #expect(producer.calls == ["pause", "resume"])
        #expect(server.dataString == "123456")
    }

    @Test("a pull producer is asked for data at registration and whenever the buffer is empty, until it unregisters")
    func pullProducer() throws {
        let (client, server, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        let transport = try #require(client.transport)
        let producer = ChunkPullProducer(consumer: transport, chunks: ["a", "b", "c"])
        try transport.registerProducer(producer, streaming: false)
        #expect(producer.requests == 1)
        #expect(pump.client.pendingBytes == bytes("a"))
        try pump.flush()
        #expect(server.dataString == "abc")
        #expect(producer.requests == 3)
        #expect(pump.client.producer == nil)
    }

    @Test("losing the connection stops the registered producer; registering afterwards stops it at once")
    func producerStoppedOnLoss() throws {
        let (client, _, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        let producer = RecordingPushProducer()
        try client.transport?.registerProducer(producer, streaming: true)
        #expect(throws: ProducerAlreadyRegisteredError.self) {
            try client.transport?.registerProducer(RecordingPushProducer(), streaming: true)
        }
        client.transport?.loseConnection()
        try pump.flush()
        #expect(producer.calls == ["stop"])
        #expect(pump.client.producer == nil)

        let late = RecordingPushProducer()
        try pump.client.registerProducer(late, streaming: true)
        #expect(late.calls == ["stop"])
        #expect(pump.client.producer == nil)
    }

    @Test("with a clock, each step first runs the calls due now, so callLater(0) work happens between steps")
    func clockAdvancesBetweenSteps() throws {
        final class LaterReply: AccumulatingProtocol {
            let clock: Clock
            init(clock: Clock) { self.clock = clock }
            override func dataReceived(_ data: [UInt8]) {
                super.dataReceived(data)
                clock.callLater(0) { [weak self] in self?.transport?.write("later") }
            }
        }
        let clock = Clock()
        let (client, _, pump) = try connectedPair(
            server: LaterReply(clock: clock), client: AccumulatingProtocol(), clock: clock)
        client.transport?.write("go")
        try pump.flush()
        #expect(client.dataString == "later")

        client.transport?.write("again")
        try pump.flush(advanceClock: false)
        #expect(client.dataString == "later")
        #expect(clock.getDelayedCalls().count == 1)
    }

    @Test("TCP options on a fake transport are recorded")
    func tcpOptions() throws {
        let (_, _, pump) = try connectedPair(server: AccumulatingProtocol(), client: AccumulatingProtocol())
        pump.client.tcpNoDelay = true
        pump.client.tcpKeepAlive = true
        #expect(pump.client.tcpNoDelay && pump.client.tcpKeepAlive)
    }
}
