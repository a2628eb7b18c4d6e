import Testing
import TorsionCore
import TorsionTesting

/// A connector that only counts what the factory asks of it.
final class CountingConnector: Connector {
    var connects = 0
    var stopConnectingCalls = 0
    var isConnecting = false
    let destination: any Address = IPv4Address(host: "192.0.2.1", port: 80)

    func stopConnecting() throws {
        stopConnectingCalls += 1
        guard isConnecting else { throw NotConnectingError() }
        isConnecting = false
    }

    func disconnect() {}

    func connect() {
        connects += 1
        isConnecting = true
    }
}

@Suite("ReconnectingClientFactory")
struct ReconnectingClientFactoryTests {
    /// A factory without jitter, so delays are exact.
    private func makeFactory(clock: Clock) -> ReconnectingClientFactory {
        let factory = ReconnectingClientFactory(clock: clock)
        factory.jitter = 0
        return factory
    }

    @Test("defaults are Twisted's: 1 s initial delay, factor e, one hour cap, about 12% jitter, no retry limit")
    func defaults() {
        let factory = ReconnectingClientFactory(clock: Clock())
        #expect(factory.initialDelay == 1)
        #expect(factory.delay == 1)
        #expect(abs(factory.factor - 2.718281828459045) < 1e-15)
        #expect(factory.maxDelay == 3600)
        #expect(factory.jitter == 0.11962656472)
        #expect(factory.maxRetries == nil)
        #expect(factory.continueTrying)
    }

    @Test("a failed attempt schedules connector.connect after initialDelay × factor")
    func firstRetry() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        factory.factor = 2
        let connector = CountingConnector()
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))

        let pending = clock.getDelayedCalls()
        #expect(pending.count == 1)
        #expect(pending.first?.time == 2)
        #expect(factory.retries == 1)
        #expect(factory.connector === connector)
        clock.advance(1.9)
        #expect(connector.connects == 0)
        clock.advance(0.1)
        #expect(connector.connects == 1)
        #expect(factory.pendingRetry == nil)
    }

    @Test("delays grow by the factor after each failure and are capped by maxDelay")
    func delaysGrowAndCap() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        factory.factor = 3
        factory.maxDelay = 50
        let connector = CountingConnector()
        var delays: [Double] = []
        for _ in 0..<5 {
            let before = clock.seconds()
            factory.clientConnectionLost(connector, reason: Failure(ConnectionLost()))
            let call = clock.getDelayedCalls()[0]
            delays.append(call.time - before)
            clock.advance(call.time - before)
        }
        #expect(delays == [3, 9, 27, 50, 50])
        #expect(connector.connects == 5)
    }

    @Test("jitter draws each delay from normalVariate(delay, delay × jitter)")
    func jitter() {
        let clock = Clock()
        let factory = ReconnectingClientFactory(clock: clock)
        factory.factor = 2
        factory.jitter = 0.5
        var draws: [(mean: Double, deviation: Double)] = []
        factory.normalVariate = { mean, deviation in
            draws.append((mean, deviation))
            return mean + 0.25
        }
        let connector = CountingConnector()
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        #expect(draws.count == 1)
        #expect(draws[0].mean == 2 && draws[0].deviation == 1)
        #expect(factory.delay == 2.25)
        #expect(clock.getDelayedCalls().first?.time == 2.25)

        clock.advance(2.25)
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        #expect(draws[1].mean == 4.5 && draws[1].deviation == 2.25)
    }

    @Test("a negative draw from normalVariate becomes a zero delay")
    func negativeJitterClamped() {
        let clock = Clock()
        let factory = ReconnectingClientFactory(clock: clock)
        factory.normalVariate = { _, _ in -5 }
        let connector = CountingConnector()
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        #expect(factory.delay == 0)
        clock.advance(0)
        #expect(connector.connects == 1)
    }

    @Test("the default normalVariate returns the mean for a zero deviation and finite numbers otherwise")
    func defaultNormalVariate() {
        let factory = ReconnectingClientFactory(clock: Clock())
        #expect((0..<100).allSatisfy { _ in factory.normalVariate(10, 0) == 10 })
        #expect((0..<100).allSatisfy { _ in factory.normalVariate(10, 1).isFinite })
    }

    @Test("after maxRetries retries, further failures schedule nothing")
    func maxRetries() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        factory.maxRetries = 2
        let connector = CountingConnector()
        for _ in 0..<4 {
            factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
            clock.advance(10_000)
        }
        #expect(connector.connects == 2)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("stopTrying cancels the pending retry and stops the attempt in progress")
    func stopTrying() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        let connector = CountingConnector()
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        let pending = factory.pendingRetry
        connector.isConnecting = true

        factory.stopTrying()

        #expect(pending?.cancelled == true)
        #expect(factory.pendingRetry == nil)
        #expect(clock.getDelayedCalls().isEmpty)
        #expect(connector.stopConnectingCalls == 1)
        #expect(!connector.isConnecting)
        #expect(!factory.continueTrying)
        clock.advance(10_000)
        #expect(connector.connects == 0)
    }

    @Test("after stopTrying, failures and losses schedule nothing, and NotConnectingError is swallowed")
    func stoppedIgnoresFailures() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        let connector = CountingConnector()
        factory.clientConnectionLost(connector, reason: Failure(ConnectionLost()))
        clock.advance(10)
        connector.isConnecting = false
        factory.stopTrying()
        #expect(connector.stopConnectingCalls == 1)
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        factory.clientConnectionLost(connector, reason: Failure(ConnectionLost()))
        factory.retry()
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("resetDelay restores the initial delay and retry count and re-enables trying")
    func resetDelay() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        factory.factor = 2
        let connector = CountingConnector()
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        clock.advance(2)
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        clock.advance(4)
        factory.stopTrying()
        #expect(factory.delay == 4 && factory.retries == 2 && !factory.continueTrying)

        factory.resetDelay()

        #expect(factory.delay == 1 && factory.retries == 0 && factory.continueTrying)
        factory.clientConnectionFailed(connector, reason: Failure(ConnectionRefused()))
        #expect(clock.getDelayedCalls().first?.time == clock.seconds() + 2)
    }

    @Test("retry without any connector does nothing")
    func retryWithoutConnector() {
        let clock = Clock()
        let factory = makeFactory(clock: clock)
        factory.retry()
        #expect(factory.retries == 0)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("with a MemoryReactorClock, a refused connection is retried through the same connector")
    func endToEndWithMemoryReactorClock() throws {
        let reactor = MemoryReactorClock()
        let factory = ReconnectingClientFactory(clock: reactor)
        factory.jitter = 0
        factory.factor = 2
        factory.makeProtocol = Protocol.init
        reactor.connectTCP(host: "192.0.2.1", port: 80, factory: factory)
        let connector = reactor.connectors[0]

        try connector.connectionFailed(reason: ConnectionRefused())
        #expect(connector.state == .disconnected)
        reactor.advance(2)
        #expect(connector.state == .connecting)
        #expect(connector.attempts == 2)

        try connector.completeConnection()
        factory.resetDelay()
        try connector.connectionLost(reason: ConnectionLost())
        reactor.advance(2)
        #expect(connector.attempts == 3)

        factory.stopTrying()
        #expect(connector.stoppedConnecting)
        #expect(connector.state == .disconnected)
        reactor.advance(100)
        #expect(connector.attempts == 3)
    }
}
