import Testing
import TorsionCore
import TorsionProtocols

final class OverflowProtocol: Protocol {
    override func connectionMade() {
        transport?.write(bytes("busy\r\n"))
        transport?.loseConnection()
    }
}

@Suite("Connection limits")
struct ConnectionLimitsTests {
    @Test("LimitTotalConnectionsFactory refuses connections over the limit until one is lost")
    func totalLimitRefuses() throws {
        let factory = LimitTotalConnectionsFactory(connectionLimit: 2) { EventRecorder() }
        let first = try #require(factory.buildProtocol(address: clientAddress))
        first.connectRecording()
        let second = try #require(factory.buildProtocol(address: clientAddress))
        second.connectRecording()
        #expect(factory.connectionCount == 2)
        #expect(factory.buildProtocol(address: clientAddress) == nil)
        first.connectionLost(reason: Failure(ConnectionDone()))
        #expect(factory.connectionCount == 1)
        #expect(factory.buildProtocol(address: clientAddress) != nil)
    }

    @Test("over the limit, the overflow protocol serves the connection")
    func overflowProtocol() throws {
        let factory = LimitTotalConnectionsFactory(connectionLimit: 1) { EventRecorder() }
        factory.overflowProtocol = { OverflowProtocol() }
        let normal = try #require(factory.buildProtocol(address: clientAddress) as? ProtocolWrapper)
        #expect(normal.wrappedProtocol is EventRecorder)
        #expect(normal.wrappedProtocol?.factory === factory)
        let overflow = try #require(factory.buildProtocol(address: clientAddress) as? ProtocolWrapper)
        #expect(overflow.wrappedProtocol is OverflowProtocol)
        let transport = overflow.connectRecording()
        #expect(transport.written == bytes("busy\r\n"))
        #expect(transport.loseConnectionCount == 1)
        #expect(factory.connectionCount == 2)
    }

    @Test("without a limit every connection is served")
    func noLimit() {
        let factory = LimitTotalConnectionsFactory(connectionLimit: nil) { EventRecorder() }
        for _ in 0..<100 { #expect(factory.buildProtocol(address: clientAddress) != nil) }
        #expect(factory.connectionCount == 100)
    }

    @Test("LimitConnectionsByPeer refuses a host at its limit, whatever the port, and not other hosts")
    func perPeerLimit() {
        let factory = LimitConnectionsByPeer(wrapping: CountingFactory())
        factory.maxConnectionsPerPeer = 2
        let hostA = (1...3).map { IPv4Address(host: "198.51.100.1", port: 1000 + $0) }
        #expect(factory.buildProtocol(address: hostA[0]) != nil)
        #expect(factory.buildProtocol(address: hostA[1]) != nil)
        #expect(factory.buildProtocol(address: hostA[2]) == nil)
        #expect(factory.buildProtocol(address: IPv6Address(host: "2001:db8::1", port: 1)) != nil)
        #expect(factory.peerConnections == ["198.51.100.1": 2, "2001:db8::1": 1])
    }

    @Test("a lost connection gives its host's place back")
    func perPeerReleased() throws {
        let factory = LimitConnectionsByPeer(wrapping: CountingFactory())
        factory.maxConnectionsPerPeer = 1
        let address = IPv4Address(host: "198.51.100.9", port: 5000)
        let wrapper = try #require(factory.buildProtocol(address: address))
        wrapper.connectRecording(peer: address)
        #expect(factory.buildProtocol(address: address) == nil)
        wrapper.connectionLost(reason: Failure(ConnectionDone()))
        #expect(factory.peerConnections.isEmpty)
        #expect(factory.buildProtocol(address: address) != nil)
    }

    @Test("the default limit is five per peer and a refusal by the wrapped factory takes no place")
    func defaultsAndRefusal() {
        let inner = CountingFactory()
        let factory = LimitConnectionsByPeer(wrapping: inner)
        #expect(factory.maxConnectionsPerPeer == 5)
        inner.refuses = true
        #expect(factory.buildProtocol(address: clientAddress) == nil)
        #expect(factory.peerConnections.isEmpty)
        inner.refuses = false
        for _ in 0..<5 { #expect(factory.buildProtocol(address: clientAddress) != nil) }
        #expect(factory.buildProtocol(address: clientAddress) == nil)
    }
}
