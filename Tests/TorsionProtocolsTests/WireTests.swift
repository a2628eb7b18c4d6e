import Testing
import TorsionCore
import TorsionProtocols
import TorsionTesting

@Suite("Wire protocols: Echo, Discard, QOTD")
struct WireTests {
    @Test("Echo writes every chunk back in order, whatever the chunking")
    func echoWritesBack() {
        let echo = Echo()
        let transport = StringTransport()
        echo.makeConnection(transport)
        echo.dataReceived(Array("hel".utf8))
        echo.dataReceived([])
        echo.dataReceived(Array("lo\r\n\u{0}".utf8))
        #expect(transport.valueString == "hello\r\n\u{0}")
        #expect(!transport.disconnecting)
    }

    @Test("Echo over an in-memory connection returns what the client sent")
    func echoOverConnection() throws {
        let (client, _, pump) = try connectedPair(server: Echo(), client: AccumulatingProtocol())
        client.transport?.write("one ")
        try pump.flush()
        client.transport?.write("two")
        try pump.flush()
        #expect(client.dataString == "one two")
    }

    @Test("Discard writes nothing and keeps the connection open")
    func discardDropsData() {
        let discard = Discard()
        let transport = StringTransport()
        discard.makeConnection(transport)
        discard.dataReceived(Array(repeating: 0x41, count: 100_000))
        #expect(transport.value().isEmpty)
        #expect(!transport.disconnecting)
    }

    @Test("QOTD from a default factory sends the apple quote, CRLF, and closes")
    func qotdDefaultQuote() throws {
        let factory = QOTDFactory()
        let address = IPv4Address(.tcp, host: "127.0.0.1", port: 17)
        let qotd = try #require(factory.buildProtocol(address: address))
        let transport = StringTransport()
        qotd.makeConnection(transport)
        #expect(transport.valueString == "An apple a day keeps the doctor away\r\n")
        #expect(transport.disconnecting)
    }

    @Test("QOTDFactory(quote:) sends the configured quote; nil or empty means the default")
    func qotdConfiguredQuote() throws {
        #expect(QOTDFactory(quote: "configurable quote").quote == "configurable quote")
        #expect(QOTDFactory(quote: nil).quote == QOTDFactory.defaultQuote)
        #expect(QOTDFactory(quote: "").quote == QOTDFactory.defaultQuote)

        let factory = QOTDFactory(quote: "Carpe diem")
        let (client, _, _) = try connectedPair(
            server: try #require(factory.buildProtocol(address: IPv4Address(.tcp, host: "127.0.0.1", port: 17))),
            client: AccumulatingProtocol())
        #expect(client.dataString == "Carpe diem\r\n")
        #expect(client.closed)
    }

    @Test("A QOTD built outside a QOTDFactory sends the default quote")
    func qotdWithoutFactory() {
        let qotd = QOTD()
        let transport = StringTransport()
        qotd.makeConnection(transport)
        #expect(transport.valueString == QOTDFactory.defaultQuote + "\r\n")
    }
}
