import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("echo-server and echo-client over loopback TCP")
struct EchoLoopbackTests {
    @Test("echo-client sends Hello,world!, gets it echoed by echo-server, closes and stops the reactor")
    func clientAndServer() throws {
        let reactor = try makeLoopbackReactor()
        let server = EchoExample.EchoFactory()
        let listening = try EchoExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1", factory: server)
        stopListeningAtShutdown(listening, reactor)
        let client = EchoExample.runClient(reactor: reactor, port: try boundPort(listening))
        try runCheckingLeaks(reactor)

        #expect(client.client?.reply == Array("Hello,world!".utf8))
        #expect(client.endReason?.check(ConnectionDone.self) != nil)
        #expect(client.stopError == nil)
        #expect(server.builtCount == 1)
        #expect((server.lastPeerAddress as? IPv4Address)?.host == "127.0.0.1")
        #expect(
            EchoExample.clientReport(client) == [
                "receive msg: Hello,world!", "conn lost: \(try #require(client.endReason).errorMessage)",
            ])
    }

    @Test("echo-client reports conn failed and stops the reactor when nothing listens")
    func clientWithoutServer() throws {
        let reactor = try makeLoopbackReactor()
        var started: EchoExample.EchoClientFactory?
        try withUnusedPort(reactor) { started = EchoExample.runClient(reactor: reactor, port: $0) }
        try runCheckingLeaks(reactor)

        let client = try #require(started)
        let reason = try #require(client.endReason)
        #expect(reason.check(ConnectionRefused.self) != nil)
        #expect(client.client == nil)
        #expect(EchoExample.clientReport(client) == ["conn failed: \(reason.errorMessage)"])
    }
}
