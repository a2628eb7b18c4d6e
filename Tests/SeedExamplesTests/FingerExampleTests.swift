import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

/// A finger factory whose answers come later, on a clock, like a lookup in
/// a slow database; or fail, when `broken`.
final class SlowFingerFactory: FingerExample.FingerFactory {
    let reactor: any ReactorTime
    var broken = false

    init(users: [String: String], reactor: any ReactorTime) {
        self.reactor = reactor
        super.init(users: users)
    }

    override func getUser(_ user: String) -> Deferred<String> {
        let answer = Deferred<String>()
        let status = users[user] ?? FingerExample.noSuchUser
        let broken = broken
        reactor.callLater(5) {
            if broken {
                try? answer.errback(message: "database down")
            } else {
                try? answer.callback(status)
            }
        }
        return answer
    }
}

@Suite("Seed 001: the finger server with Deferreds")
struct FingerExampleTests {
    typealias Finger = FingerExample.FingerProtocol

    let users = ["moshez": "Happy and well"]

    @Test("A known user's status is written with CRLF, then the connection closes")
    func knownUser() throws {
        let (finger, transport) = try connect(FingerExample.FingerFactory(users: users), as: Finger.self)
        finger.receive("moshez\r\n")
        #expect(transport.valueString == "Happy and well\r\n")
        #expect(transport.disconnecting)
    }

    @Test("An unknown user gets No such user")
    func unknownUser() throws {
        let (finger, transport) = try connect(FingerExample.FingerFactory(users: users), as: Finger.self)
        finger.receive("nobody\r\n")
        #expect(transport.valueString == "No such user\r\n")
        #expect(transport.disconnecting)
    }

    @Test("Over a connection, the client receives the answer and both ends close")
    func overConnection() throws {
        let factory = FingerExample.FingerFactory(users: users)
        let (client, _, pump) = try connectedPair(
            server: try build(factory, as: Finger.self), client: AccumulatingProtocol())
        client.transport?.write("moshez\r\n")
        try pump.flush()
        #expect(client.dataString == "Happy and well\r\n")
        #expect(client.closedReason?.check(ConnectionDone.self) != nil)
    }

    @Test("Nothing is written until the Deferred from getUser fires")
    func deferredFiresLater() throws {
        let reactor = MemoryReactorClock()
        let (finger, transport) = try connect(SlowFingerFactory(users: users, reactor: reactor), as: Finger.self)
        finger.receive("moshez\r\n")
        #expect(transport.value().isEmpty)
        #expect(!transport.disconnecting)
        reactor.advance(4.9)
        #expect(transport.value().isEmpty)
        reactor.advance(0.1)
        #expect(transport.valueString == "Happy and well\r\n")
        #expect(transport.disconnecting)
    }

    @Test("Two clients waiting on slow lookups each get their own answer")
    func concurrentLookups() throws {
        let reactor = MemoryReactorClock()
        let factory = SlowFingerFactory(users: users, reactor: reactor)
        let (first, firstTransport) = try connect(factory, as: Finger.self)
        let (second, secondTransport) = try connect(factory, as: Finger.self)
        first.receive("moshez\r\n")
        reactor.advance(1)
        second.receive("glyph\r\n")
        reactor.advance(4)
        #expect(firstTransport.valueString == "Happy and well\r\n")
        #expect(secondTransport.value().isEmpty)
        reactor.advance(1)
        #expect(secondTransport.valueString == "No such user\r\n")
    }

    @Test("A failed lookup answers Internal error in server")
    func failedLookup() throws {
        let reactor = MemoryReactorClock()
        let factory = SlowFingerFactory(users: users, reactor: reactor)
        factory.broken = true
        let (finger, transport) = try connect(factory, as: Finger.self)
        finger.receive("moshez\r\n")
        reactor.advance(5)
        #expect(transport.valueString == "Internal error in server\r\n")
        #expect(transport.disconnecting)
    }

    @Test("Only the first line is looked up")
    func onlyFirstLine() throws {
        let reactor = MemoryReactorClock()
        let (finger, transport) = try connect(SlowFingerFactory(users: users, reactor: reactor), as: Finger.self)
        finger.receive("moshez\r\nnobody\r\n")
        reactor.advance(5)
        #expect(transport.valueString == "Happy and well\r\n")
        #expect(reactor.getDelayedCalls().isEmpty)
    }

    @Test("parseUser splits NAME=STATUS at the first equals sign")
    func parseUser() throws {
        let parsed = try FingerExample.parseUser("moshez=Happy and well")
        #expect(parsed.name == "moshez" && parsed.status == "Happy and well")
        let withEquals = try FingerExample.parseUser("glyph=a=b")
        #expect(withEquals.name == "glyph" && withEquals.status == "a=b")
        let empty = try FingerExample.parseUser("idle=")
        #expect(empty.name == "idle" && empty.status == "")
    }

    @Test(
        "parseUser rejects entries without a name, without =, or with line breaks",
        arguments: [
            ("moshez", "expected NAME=STATUS"), ("=status", "the name is empty"),
            ("bad\r\nname=x", "line breaks are not allowed"), ("name=two\nlines", "line breaks are not allowed"),
        ])
    func parseUserErrors(entry: String, problem: String) {
        #expect(throws: FingerExample.InvalidUserEntryError(entry: entry, problem: problem)) {
            try FingerExample.parseUser(entry)
        }
    }

    @Test("An answer arriving after the client left is dropped silently")
    func answerAfterDisconnect() throws {
        let reactor = MemoryReactorClock()
        let factory = SlowFingerFactory(users: users, reactor: reactor)
        let built = try build(factory, as: Finger.self)
        let (client, _, pump) = try connectedPair(server: built, client: AccumulatingProtocol())
        client.transport?.write("moshez\r\n")
        try pump.flush()
        client.transport?.loseConnection()
        try pump.flush()
        #expect(client.closed)
        reactor.advance(5)
        try pump.flush()
        #expect(client.data.isEmpty)
        #expect(pump.server.pendingBytes.isEmpty)
    }
}
