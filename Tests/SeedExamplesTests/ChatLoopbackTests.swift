import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("chat-server over loopback TCP")
struct ChatLoopbackTests {
    @Test("Register, a taken name, join and leave notices, and <NAME> messages, line by line with CRLF")
    func conversation() throws {
        let reactor = try makeLoopbackReactor()
        let listening = try ChatExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1")
        let port = try boundPort(listening)
        let alice = LineClient()
        let bob = LineClient()
        alice.onLine = { alice, line in
            switch line {
            case "What's your name?": alice.sendLine("alice")
            case "Welcome, alice!": reactor.connectLoopback(bob, port: port)
            case "bob has left the channel.": alice.transport?.loseConnection()
            default: break
            }
        }
        bob.onLine = { bob, line in
            switch line {
            case "What's your name?": bob.sendLine("alice")
            case "Name taken, please choose another.": bob.sendLine("bob")
            case "Welcome, bob!":
                bob.sendLine("hi alice")
                bob.transport?.loseConnection()
            default: break
            }
        }
        alice.onLost = { _ in stopListeningAndReactor(listening, reactor) }
        reactor.connectLoopback(alice, port: port)
        try runCheckingLeaks(reactor)

        #expect(
            alice.lines == [
                "What's your name?", "Welcome, alice!", "bob has joined the channel.", "<bob> hi alice",
                "bob has left the channel.",
            ])
        #expect(bob.lines == ["What's your name?", "Name taken, please choose another.", "Welcome, bob!"])
        #expect(alice.lostReason?.check(ConnectionDone.self) != nil)
        #expect(bob.lostReason?.check(ConnectionDone.self) != nil)
    }
}
