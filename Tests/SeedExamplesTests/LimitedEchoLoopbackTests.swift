import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("limited-echo-server over loopback TCP")
struct LimitedEchoLoopbackTests {
    @Test("Within the limit a client is echoed; above it a client gets the refusal and is closed")
    func limit() throws {
        let reactor = try makeLoopbackReactor()
        let factory = LimitedEchoExample.EchoFactory(maxProtocols: 1)
        let listening = try LimitedEchoExample.runServer(
            reactor: reactor, port: 0, interface: "127.0.0.1", factory: factory)
        let port = try boundPort(listening)
        let first = RecordingClient()
        let second = RecordingClient()
        first.onConnect = { $0.transport?.write("ping") }
        // Once the first client is served, the second one is over the limit.
        first.onData = { client in
            if client.receivedText == "ping" { reactor.connectLoopback(second, port: port) }
        }
        second.onLost = { _ in first.transport?.loseConnection() }
        first.onLost = { _ in stopListeningAndReactor(listening, reactor) }
        reactor.connectLoopback(first, port: port)
        try runCheckingLeaks(reactor)

        #expect(first.receivedText == "ping")
        #expect(first.lostReason?.check(ConnectionDone.self) != nil)
        #expect(second.receivedText == LimitedEchoExample.tooManyConnections)
        #expect(second.lostReason?.check(ConnectionDone.self) != nil)
        #expect(factory.numProtocols == 0)
    }
}
