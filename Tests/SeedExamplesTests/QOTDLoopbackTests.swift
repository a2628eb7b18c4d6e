import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("qotd-server over loopback TCP")
struct QOTDLoopbackTests {
    @Test(
        "A client gets the quote and CRLF, then the server closes the connection cleanly",
        arguments: [
            (nil, "An apple a day keeps the doctor away\r\n"), ("configurable quote", "configurable quote\r\n"),
        ] as [(String?, String)])
    func quoteThenClose(quote: String?, expected: String) throws {
        let reactor = try makeLoopbackReactor()
        let listening = try QOTDExample.runServer(
            reactor: reactor, port: 0, interface: "127.0.0.1", factory: QOTDExample.makeQOTDFactory(quote: quote))
        let client = RecordingClient()
        client.onLost = { _ in stopListeningAndReactor(listening, reactor) }
        reactor.connectLoopback(client, port: try boundPort(listening))
        try runCheckingLeaks(reactor)

        #expect(client.receivedText == expected)
        #expect(client.lostReason?.check(ConnectionDone.self) != nil)
    }
}
