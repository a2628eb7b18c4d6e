import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("answer-server over loopback TCP")
struct AnswerLoopbackTests {
    @Test("Each line gets its answer line: Fine for How are you?, the default for anything else")
    func answers() throws {
        let reactor = try makeLoopbackReactor()
        let listening = try AnswerExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1")
        let client = LineClient()
        client.onConnect = { $0.transport?.write("How are you?\r\nWhat is this?\r\n") }
        client.onLine = { client, _ in
            if client.lines.count == 2 { client.transport?.loseConnection() }
        }
        client.onLost = { _ in stopListeningAndReactor(listening, reactor) }
        reactor.connectLoopback(client, port: try boundPort(listening))
        try runCheckingLeaks(reactor)

        #expect(client.lines == ["Fine", "I don't know what you mean"])
        #expect(client.lostReason?.check(ConnectionDone.self) != nil)
    }
}
