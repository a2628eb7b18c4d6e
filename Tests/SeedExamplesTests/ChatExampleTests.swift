import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

@Suite("Seed 003 example 2-5: the chat server")
struct ChatExampleTests {
    typealias Chat = ChatExample.ChatProtocol

    /// Connects a user and registers `name`, then clears what was written.
    func join(
        _ factory: ChatExample.ChatFactory, as name: String
    ) throws -> (chat: Chat, transport: StringTransportWithDisconnection) {
        let (chat, transport) = try connect(factory, as: Chat.self)
        chat.receive("\(name)\r\n")
        transport.clear()
        return (chat, transport)
    }

    @Test("A newcomer is asked its name and welcomed; the others hear it joined")
    func registration() throws {
        let factory = ChatExample.ChatFactory()
        let (alice, aliceTransport) = try connect(factory, as: Chat.self)
        #expect(aliceTransport.valueString == "What's your name?\r\n")
        #expect(alice.state == .register)
        alice.receive("alice\r\n")
        #expect(aliceTransport.valueString == "What's your name?\r\nWelcome, alice!\r\n")
        #expect(alice.state == .chat && alice.name == "alice")

        aliceTransport.clear()
        let (bob, bobTransport) = try connect(factory, as: Chat.self)
        #expect(aliceTransport.value().isEmpty)
        bobTransport.clear()
        // Chat is not sent to a user who has not chosen a name yet.
        alice.receive("anyone there?\r\n")
        #expect(bobTransport.value().isEmpty)
        bob.receive("bob\r\n")
        #expect(bobTransport.valueString == "Welcome, bob!\r\n")
        #expect(aliceTransport.valueString == "bob has joined the channel.\r\n")
        #expect(Set(factory.users.keys) == ["alice", "bob"])
    }

    @Test("A taken name is refused until a free one is given")
    func takenName() throws {
        let factory = ChatExample.ChatFactory()
        let (_, aliceTransport) = try join(factory, as: "alice")
        let (other, otherTransport) = try connect(factory, as: Chat.self)
        otherTransport.clear()
        other.receive("alice\r\n")
        #expect(otherTransport.valueString == "Name taken, please choose another.\r\n")
        #expect(other.state == .register)
        #expect(aliceTransport.value().isEmpty)
        other.receive("carol\r\n")
        #expect(otherTransport.valueString == "Name taken, please choose another.\r\nWelcome, carol!\r\n")
        #expect(aliceTransport.valueString == "carol has joined the channel.\r\n")
    }

    @Test("Three users: each line goes to the two others as <NAME> LINE")
    func broadcast() throws {
        let factory = ChatExample.ChatFactory()
        let (alice, aliceTransport) = try join(factory, as: "alice")
        let (bob, bobTransport) = try join(factory, as: "bob")
        let (_, carolTransport) = try join(factory, as: "carol")
        for transport in [aliceTransport, bobTransport, carolTransport] { transport.clear() }

        alice.receive("hello there\r\n")
        #expect(aliceTransport.value().isEmpty)
        #expect(bobTransport.valueString == "<alice> hello there\r\n")
        #expect(carolTransport.valueString == "<alice> hello there\r\n")

        bobTransport.clear()
        carolTransport.clear()
        bob.receive("hi\r\nhow are you?\r\n")
        #expect(aliceTransport.valueString == "<bob> hi\r\n<bob> how are you?\r\n")
        #expect(carolTransport.valueString == "<bob> hi\r\n<bob> how are you?\r\n")
        #expect(bobTransport.value().isEmpty)
    }

    @Test("When a user leaves the others are told and the name is free again")
    func leave() throws {
        let factory = ChatExample.ChatFactory()
        let (_, aliceTransport) = try join(factory, as: "alice")
        let (_, bobTransport) = try join(factory, as: "bob")
        let (_, carolTransport) = try join(factory, as: "carol")
        for transport in [aliceTransport, bobTransport, carolTransport] { transport.clear() }

        bobTransport.loseConnection()
        #expect(aliceTransport.valueString == "bob has left the channel.\r\n")
        #expect(carolTransport.valueString == "bob has left the channel.\r\n")
        #expect(bobTransport.value().isEmpty)
        #expect(Set(factory.users.keys) == ["alice", "carol"])

        let (newBob, newBobTransport) = try connect(factory, as: Chat.self)
        newBob.receive("bob\r\n")
        #expect(newBobTransport.valueString == "What's your name?\r\nWelcome, bob!\r\n")
    }

    @Test("A user who leaves before choosing a name is not announced")
    func leaveUnregistered() throws {
        let factory = ChatExample.ChatFactory()
        let (_, aliceTransport) = try join(factory, as: "alice")
        let (anonymous, anonymousTransport) = try connect(factory, as: Chat.self)
        anonymous.receive("alice\r\n")
        anonymousTransport.loseConnection()
        #expect(aliceTransport.value().isEmpty)
        #expect(factory.users["alice"] != nil)
    }

    @Test("A line over LineReceiver's limit closes that user's connection, and the others hear it left")
    func overlongLine() throws {
        let factory = ChatExample.ChatFactory()
        let (_, aliceTransport) = try join(factory, as: "alice")
        let (bob, bobTransport) = try join(factory, as: "bob")
        aliceTransport.clear()
        bob.dataReceived(Array(repeating: 0x78, count: bob.maxLength + 2))
        #expect(bob.lineLengthError != nil)
        #expect(bobTransport.disconnecting)
        #expect(aliceTransport.valueString == "bob has left the channel.\r\n")
        #expect(Set(factory.users.keys) == ["alice"])
    }

    @Test("Three users over in-memory connections, written byte by byte")
    func overConnections() throws {
        let factory = ChatExample.ChatFactory()
        var clients: [(AccumulatingProtocol, IOPump)] = []
        for _ in 0..<3 {
            let (client, _, pump) = try connectedPair(
                server: try build(factory, as: Chat.self), client: AccumulatingProtocol())
            clients.append((client, pump))
        }
        func send(_ index: Int, _ text: String) throws {
            for byte in text.utf8 {
                clients[index].0.transport?.write([byte])
                try clients[index].1.flush()
            }
            for (_, pump) in clients { try pump.flush() }
        }
        try send(0, "ann\r\n")
        try send(1, "ann\r\n")
        try send(1, "ben\r\n")
        try send(2, "cy\r\n")
        try send(0, "hi\r\n")
        clients[2].0.transport?.loseConnection()
        // The close travels on the third pump; the farewells it causes on
        // the other two.
        for (_, pump) in clients.reversed() { try pump.flush() }

        #expect(
            clients[0].0.dataString == """
                What's your name?\r\nWelcome, ann!\r\nben has joined the channel.\r\n\
                cy has joined the channel.\r\ncy has left the channel.\r\n
                """)
        #expect(
            clients[1].0.dataString == """
                What's your name?\r\nName taken, please choose another.\r\nWelcome, ben!\r\n\
                cy has joined the channel.\r\n<ann> hi\r\ncy has left the channel.\r\n
                """)
        #expect(clients[2].0.dataString == "What's your name?\r\nWelcome, cy!\r\n<ann> hi\r\n")
        #expect(clients[2].0.closed)
        #expect(Set(factory.users.keys) == ["ann", "ben"])
    }
}
