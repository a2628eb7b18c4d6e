import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("finger-server over loopback TCP")
struct FingerLoopbackTests {
    @Test(
        "One user name in, the status or No such user out with CRLF, then the server closes",
        arguments: [("moshez", "Happy and well\r\n"), ("nobody", "No such user\r\n")])
    func lookup(user: String, expected: String) throws {
        let reactor = try makeLoopbackReactor()
        let listening = try FingerExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1")
        let client = RecordingClient()
        client.onConnect = { $0.transport?.write(user + "\r\n") }
        client.onLost = { _ in stopListeningAndReactor(listening, reactor) }
        reactor.connectLoopback(client, port: try boundPort(listening))
        try runCheckingLeaks(reactor)

        #expect(client.receivedText == expected)
        #expect(client.lostReason?.check(ConnectionDone.self) != nil)
    }

}
