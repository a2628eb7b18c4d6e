import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("spreader-server and spreader-client over loopback TCP")
struct SpreaderLoopbackTests {
    /// The text of a client's `got messages:` report lines, joined: what
    /// the server sent it, however TCP split it.
    func receivedText(_ lines: [String]) -> String {
        let prefix = "got messages: "
        return lines.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.joined()
    }

    @Test("Two spreader-clients are welcomed with their numbers and hear each other's hellos through the server")
    func twoClients() throws {
        let reactor = try makeLoopbackReactor()
        let server = SpreaderExample.SpreadFactory()
        let listening = try SpreaderExample.runServer(
            reactor: reactor, port: 0, interface: "127.0.0.1", factory: server)
        let port = try boundPort(listening)
        var aliceLines: [String] = []
        var bobLines: [String] = []
        var stopping = false
        // Each client answers every message at once (interval 0, the seed
        // waits 5 s); the test ends when both have heard the other's hello.
        func check() {
            guard !stopping, receivedText(aliceLines).contains("hello, I'm Bob at "),
                receivedText(bobLines).contains("hello, I'm Alice at ")
            else { return }
            stopping = true
            stopListeningAndReactor(listening, reactor)
        }
        var bob: SpreaderExample.EchoClientFactory?
        let alice = SpreaderExample.runClient(
            reactor: reactor, name: "Alice", port: port, interval: 0,
            report: { line in
                aliceLines.append(line)
                // Bob connects once Alice is client number 1.
                if bob == nil, receivedText(aliceLines).contains("number 1!\n") {
                    bob = SpreaderExample.runClient(
                        reactor: reactor, name: "Bob", port: port, interval: 0,
                        report: { line in
                            bobLines.append(line)
                            check()
                        })
                }
                check()
            })
        try runCheckingLeaks(reactor)

        #expect(Array(aliceLines.prefix(2)) == ["started to connect.", "Connected to the server!"])
        #expect(Array(bobLines.prefix(2)) == ["started to connect.", "Connected to the server!"])
        #expect(receivedText(aliceLines).hasPrefix("Welcome to Torsion World, you are client number 1!\n"))
        #expect(receivedText(bobLines).hasPrefix("Welcome to Torsion World, you are client number 2!\n"))
        // The reactor's shutdown closed both connections.
        for (lines, factory) in [(aliceLines, alice), (bobLines, try #require(bob))] {
            let reason = try #require(factory.endReason)
            #expect(
                Array(lines.suffix(2)) == [
                    "Disconnected from the server!", "Lost connection. Reason: \(reason.errorMessage)",
                ])
            #expect(factory.connectionAttempts == 1)
        }
        #expect(server.numProtocols == 2)
        #expect(server.clients.isEmpty)
    }

    @Test("close disconnects the client that sends it")
    func close() throws {
        let reactor = try makeLoopbackReactor()
        let listening = try SpreaderExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1")
        let client = RecordingClient()
        client.onData = { client in
            if client.receivedText.hasSuffix("!\n") { client.transport?.write("close\r\n") }
        }
        client.onLost = { _ in stopListeningAndReactor(listening, reactor) }
        reactor.connectLoopback(client, port: try boundPort(listening))
        try runCheckingLeaks(reactor)

        #expect(client.receivedText == "Welcome to Torsion World, you are client number 1!\n")
        #expect(client.lostReason?.check(ConnectionDone.self) != nil)
    }

    @Test("spreader-client reports a failed connection when nothing listens")
    func clientWithoutServer() throws {
        let reactor = try makeLoopbackReactor()
        var lines: [String] = []
        var started: SpreaderExample.EchoClientFactory?
        try withUnusedPort(reactor) { port in
            started = SpreaderExample.runClient(
                reactor: reactor, name: "Alice", port: port,
                report: { line in
                    lines.append(line)
                    if line.hasPrefix("Connection failed.") { try? reactor.stop() }
                })
        }
        try runCheckingLeaks(reactor)

        let factory = try #require(started)
        let reason = try #require(factory.endReason)
        #expect(reason.check(ConnectionRefused.self) != nil)
        #expect(lines == ["started to connect.", "Connection failed. Reason: \(reason.errorMessage)"])
    }
}
