import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

@Suite("Seed 000: connection-limiting echo")
struct LimitedEchoExampleTests {
    typealias Echo = LimitedEchoExample.Echo

    @Test("Connections up to the limit are echoed and counted")
    func withinLimit() throws {
        let factory = LimitedEchoExample.EchoFactory(maxProtocols: 2)
        let (first, firstTransport) = try connect(factory, as: Echo.self)
        let (_, secondTransport) = try connect(factory, as: Echo.self)
        #expect(factory.numProtocols == 2)
        first.receive("hello")
        #expect(firstTransport.valueString == "hello")
        #expect(!firstTransport.disconnecting)
        #expect(!secondTransport.disconnecting)
    }

    @Test("A connection above the limit is told to try later and closed, without echo")
    func aboveLimit() throws {
        let factory = LimitedEchoExample.EchoFactory(maxProtocols: 1)
        _ = try connect(factory, as: Echo.self)
        let transport = StringTransport()
        let refused = try build(factory, as: Echo.self)
        refused.makeConnection(transport)
        #expect(transport.valueString == "Too many connections, try later")
        #expect(transport.disconnecting)
        refused.receive("ignored")
        #expect(transport.valueString == "Too many connections, try later")
        #expect(factory.numProtocols == 2)
        refused.connectionLost(reason: Failure(ConnectionDone()))
        #expect(factory.numProtocols == 1)
    }

    @Test("Closed connections free their place, so a later one is served")
    func placeFreed() throws {
        let factory = LimitedEchoExample.EchoFactory(maxProtocols: 1)
        let (firstEcho, first) = try connect(factory, as: Echo.self)
        // The transport holds its protocol weakly: keep it alive until closed.
        withExtendedLifetime(firstEcho) { first.loseConnection() }
        #expect(factory.numProtocols == 0)
        let (second, transport) = try connect(factory, as: Echo.self)
        second.receive("again")
        #expect(transport.valueString == "again")
    }

    @Test("connectionLost twice uncounts once")
    func lostTwice() throws {
        let factory = LimitedEchoExample.EchoFactory()
        let (echo, _) = try connect(factory, as: Echo.self)
        echo.connectionLost(reason: Failure(ConnectionDone()))
        echo.connectionLost(reason: Failure(ConnectionDone()))
        #expect(factory.numProtocols == 0)
    }

    @Test("The default limit is the seed's 100 connections")
    func defaultLimit() throws {
        let factory = LimitedEchoExample.EchoFactory()
        #expect(factory.maxProtocols == 100)
        let transports = try (0..<101).map { _ in try connect(factory, as: Echo.self).transport }
        #expect(transports.prefix(100).allSatisfy { !$0.disconnecting })
        #expect(transports[100].valueString == "Too many connections, try later")
    }
}
