import Testing
import TorsionCore
import TorsionTesting

@Suite("StringTransport")
struct StringTransportTests {
    @Test("write and writeSequence are recorded in order; value() returns them concatenated")
    func recordsWrites() {
        let transport = StringTransport()
        transport.write(bytes("ab"))
        transport.writeSequence([bytes("c"), [], bytes("de")])
        transport.write("fg")
        #expect(transport.value() == bytes("abcdefg"))
        #expect(transport.valueString == "abcdefg")
    }

    @Test("clear() forgets earlier writes and keeps recording later ones")
    func clearForgets() {
        let transport = StringTransport()
        transport.write("before")
        transport.clear()
        #expect(transport.value().isEmpty)
        transport.write("after")
        #expect(transport.valueString == "after")
    }

    @Test("valueString replaces invalid UTF-8 instead of failing")
    func valueStringIsLossy() {
        let transport = StringTransport()
        transport.write([0x61, 0xFF, 0x62])
        #expect(transport.valueString == "a\u{FFFD}b")
    }

    @Test("makeConnection hands the transport to the protocol, whose writes land in value()")
    func protocolWritesAreRecorded() {
        let transport = StringTransport()
        let greeter = Greeter("hello\r\n")
        greeter.makeConnection(transport)
        #expect(greeter.transport === transport)
        #expect(transport.valueString == "hello\r\n")
    }

    @Test("host and peer default to Twisted's addresses and can be configured")
    func addresses() throws {
        let transport = StringTransport()
        let host = try #require(transport.host as? IPv4Address)
        let peer = try #require(transport.peer as? IPv4Address)
        #expect(host == IPv4Address(.tcp, host: "10.0.0.1", port: 12345))
        #expect(peer == IPv4Address(.tcp, host: "192.168.1.1", port: 54321))

        let custom = StringTransport(host: UNIXAddress("/tmp/s"), peer: IPv6Address(host: "::1", port: 7))
        #expect((custom.host as? UNIXAddress) == UNIXAddress("/tmp/s"))
        custom.peer = IPv4Address(host: "192.0.2.1", port: 9)
        #expect((custom.peer as? IPv4Address) == IPv4Address(host: "192.0.2.1", port: 9))
    }

    @Test("loseConnection only sets disconnecting: connectionLost is not called")
    func loseConnectionDoesNotCallConnectionLost() {
        let transport = StringTransport()
        let proto = AccumulatingProtocol()
        proto.makeConnection(transport)
        #expect(!transport.disconnecting)
        proto.transport?.loseConnection()
        #expect(transport.disconnecting)
        #expect(!transport.aborted)
        #expect(!proto.closed)
        #expect(proto.connected)
    }

    @Test("abortConnection sets aborted and disconnecting and keeps what was written")
    func abortConnection() {
        let transport = StringTransport()
        transport.write("kept")
        transport.abortConnection()
        #expect(transport.aborted)
        #expect(transport.disconnecting)
        #expect(transport.valueString == "kept")
    }

    @Test("writes after loseConnection are still recorded, as in Twisted")
    func writesAfterLoseConnectionAreRecorded() {
        let transport = StringTransport()
        transport.loseConnection()
        transport.write("late")
        #expect(transport.valueString == "late")
    }

    @Test("loseWriteConnection sets writeDisconnected only")
    func loseWriteConnection() {
        let transport = StringTransport()
        transport.loseWriteConnection()
        #expect(transport.writeDisconnected)
        #expect(!transport.disconnecting)
    }

    @Test("TCP options are recorded")
    func tcpOptions() {
        let transport = StringTransport()
        transport.tcpNoDelay = true
        transport.tcpKeepAlive = true
        #expect(transport.tcpNoDelay && transport.tcpKeepAlive)
    }

    @Test("registerProducer records the producer and streaming flag; unregisterProducer forgets them")
    func producerRegistration() throws {
        let transport = StringTransport()
        let producer = RecordingPushProducer()
        #expect(transport.producer == nil && transport.streaming == nil)
        try transport.registerProducer(producer, streaming: true)
        #expect(transport.producer === producer)
        #expect(transport.streaming == true)
        transport.unregisterProducer()
        #expect(transport.producer == nil && transport.streaming == nil)
        #expect(transport.misuses.isEmpty)
        #expect(producer.calls.isEmpty)
    }

    @Test("registering a second producer throws ProducerAlreadyRegisteredError and keeps the first")
    func doubleRegistrationThrows() throws {
        let transport = StringTransport()
        let first = RecordingPushProducer()
        try transport.registerProducer(first, streaming: true)
        #expect(throws: ProducerAlreadyRegisteredError.self) {
            try transport.registerProducer(RecordingPushProducer(), streaming: false)
        }
        #expect(transport.producer === first)
        #expect(transport.streaming == true)
    }

    @Test("unregisterProducer without a producer is recorded as a misuse")
    func unregisterWithoutProducer() {
        let transport = StringTransport()
        transport.unregisterProducer()
        #expect(transport.misuses == [.unregisterWithoutProducer])
        #expect(transport.misuses.first?.description == "cannot unregister a producer unless one is registered")
    }

    @Test("a streaming registration of a producer that cannot pause is recorded as a misuse")
    func streamingProducerMustPause() throws {
        let transport = StringTransport()
        try transport.registerProducer(BareProducer(), streaming: true)
        #expect(transport.misuses == [.streamingProducerCannotPause])
        #expect(transport.producer != nil)
    }

    @Test("pauseProducing, resumeProducing and stopProducing move producerState")
    func producerState() {
        let transport = StringTransport()
        #expect(transport.producerState == .producing)
        transport.pauseProducing()
        #expect(transport.producerState == .paused)
        transport.resumeProducing()
        #expect(transport.producerState == .producing)
        transport.stopProducing()
        #expect(transport.producerState == .stopped)
        #expect(transport.misuses.isEmpty)
    }

    @Test("pausing or resuming a stopped transport is a misuse and leaves it stopped")
    func producingAfterStop() {
        let transport = StringTransport()
        transport.stopProducing()
        transport.resumeProducing()
        transport.pauseProducing()
        #expect(transport.producerState == .stopped)
        #expect(transport.misuses == [.producingAfterStop(.resume), .producingAfterStop(.pause)])
    }

    @Test("pausing or resuming after loseConnection is a misuse unless lenient")
    func producingAfterLoseConnection() {
        let strict = StringTransport()
        strict.loseConnection()
        strict.pauseProducing()
        #expect(strict.producerState == .producing)
        #expect(strict.misuses == [.producingAfterLoseConnection(.pause)])
        #expect(strict.misuses.first?.description == "cannot pauseProducing after loseConnection")

        let lenient = StringTransport(lenient: true)
        lenient.loseConnection()
        lenient.pauseProducing()
        lenient.resumeProducing()
        #expect(lenient.misuses.isEmpty)
        #expect(lenient.producerState == .producing)
    }
}

@Suite("StringTransportWithDisconnection")
struct StringTransportWithDisconnectionTests {
    @Test("loseConnection calls connectionLost once with ConnectionDone")
    func loseConnectionCallsConnectionLostOnce() {
        let transport = StringTransportWithDisconnection()
        let proto = AccumulatingProtocol()
        transport.protocol = proto
        proto.makeConnection(transport)

        transport.loseConnection()
        transport.loseConnection()
        transport.abortConnection()

        #expect(proto.lostReasons.count == 1)
        #expect(proto.closedReason?.check(ConnectionDone.self) != nil)
        #expect(!proto.connected)
        #expect(!transport.connected)
        #expect(transport.disconnecting)
    }

    @Test("abortConnection calls connectionLost once with ConnectionAborted")
    func abortCallsConnectionLostWithAborted() {
        let proto = AccumulatingProtocol()
        let transport = StringTransportWithDisconnection(protocol: proto)
        proto.makeConnection(transport)

        transport.abortConnection()
        transport.loseConnection()

        #expect(proto.lostReasons.count == 1)
        #expect(proto.closedReason?.check(ConnectionAborted.self) != nil)
        #expect(transport.aborted)
    }

    @Test("a protocol closing its own transport sees connectionLost synchronously")
    func protocolInitiatedClose() {
        final class Quitter: AccumulatingProtocol {
            override func dataReceived(_ data: [UInt8]) {
                super.dataReceived(data)
                transport?.write("bye")
                transport?.loseConnection()
            }
        }
        let proto = Quitter()
        let transport = StringTransportWithDisconnection(protocol: proto)
        proto.makeConnection(transport)
        proto.dataReceived(bytes("quit"))
        #expect(transport.valueString == "bye")
        #expect(proto.closed)
    }

    @Test("without a protocol, loseConnection still ends the connection")
    func withoutProtocol() {
        let transport = StringTransportWithDisconnection()
        transport.loseConnection()
        #expect(!transport.connected)
        #expect(transport.disconnecting)
    }

    @Test("the transport does not keep its protocol alive")
    func protocolIsWeak() {
        let transport = StringTransportWithDisconnection()
        do {
            let proto = AccumulatingProtocol()
            transport.protocol = proto
            proto.makeConnection(transport)
        }
        #expect(transport.protocol == nil)
    }
}

@Suite("AccumulatingProtocol")
struct AccumulatingProtocolTests {
    @Test("records connectionMade, every byte and every connectionLost reason")
    func records() {
        let proto = AccumulatingProtocol()
        #expect(!proto.made && !proto.closed && proto.closedReason == nil)
        proto.makeConnection(StringTransport())
        proto.dataReceived(bytes("ab"))
        proto.dataReceived(bytes("c"))
        proto.connectionLost(reason: Failure(ConnectionLost()))
        #expect(proto.made)
        #expect(proto.data == bytes("abc"))
        #expect(proto.dataString == "abc")
        #expect(proto.lostReasons.count == 1)
        #expect(proto.closedReason?.check(ConnectionLost.self) != nil)
        #expect(!proto.connected)
    }
}
