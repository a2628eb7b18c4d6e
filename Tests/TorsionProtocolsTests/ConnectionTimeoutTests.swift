import Testing
import TorsionCore
import TorsionProtocols

/// A line protocol with Twisted's TimeoutMixin spelling: idle for the
/// period and the connection is closed.
final class IdleLineProtocol: LineReceiver, TimeoutMixin {
    let clock: any ReactorTime
    lazy var connectionTimeout = ConnectionTimeout(clock: clock, closing: self)

    init(clock: any ReactorTime) {
        self.clock = clock
        super.init()
    }

    override func connectionMade() { setTimeout(10) }
    override func lineReceived(_ line: [UInt8]) { resetTimeout() }
    override func connectionLost(reason: Failure) {
        setTimeout(nil)
        super.connectionLost(reason: reason)
    }
}

@Suite("ConnectionTimeout")
struct ConnectionTimeoutTests {
    @Test("the action runs when the period elapses, not before")
    func firesAfterPeriod() {
        let clock = Clock()
        var fired = 0
        let timeout = ConnectionTimeout(clock: clock) { fired += 1 }
        #expect(timeout.setTimeout(10) == nil)
        clock.advance(9.9)
        #expect(fired == 0)
        #expect(timeout.isPending)
        clock.advance(0.1)
        #expect(fired == 1)
        #expect(!timeout.isPending)
        clock.advance(100)
        #expect(fired == 1)
    }

    @Test("resetTimeout restarts the countdown from now")
    func reset() {
        let clock = Clock()
        var fired = 0
        let timeout = ConnectionTimeout(clock: clock) { fired += 1 }
        timeout.setTimeout(10)
        clock.advance(6)
        timeout.resetTimeout()
        clock.advance(9)
        #expect(fired == 0)
        clock.advance(1)
        #expect(fired == 1)
    }

    @Test("setTimeout(nil) cancels the pending call and returns the previous period")
    func cancel() {
        let clock = Clock()
        var fired = 0
        let timeout = ConnectionTimeout(clock: clock) { fired += 1 }
        timeout.setTimeout(5)
        #expect(timeout.setTimeout(nil) == 5)
        #expect(clock.getDelayedCalls().isEmpty)
        timeout.resetTimeout()
        clock.advance(10)
        #expect(fired == 0)
        #expect(timeout.timeOut == nil)
    }

    @Test("setTimeout while pending moves the expiry to the new period from now")
    func changePeriod() {
        let clock = Clock()
        var fired = 0
        let timeout = ConnectionTimeout(clock: clock) { fired += 1 }
        timeout.setTimeout(10)
        clock.advance(8)
        #expect(timeout.setTimeout(3) == 10)
        #expect(clock.getDelayedCalls().count == 1)
        clock.advance(2.9)
        #expect(fired == 0)
        clock.advance(0.1)
        #expect(fired == 1)
    }

    @Test("resetTimeout after the timeout fired schedules nothing")
    func resetAfterExpiry() {
        let clock = Clock()
        let timeout = ConnectionTimeout(clock: clock) {}
        timeout.setTimeout(1)
        clock.advance(1)
        timeout.resetTimeout()
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("a dropped timeout does not run its action")
    func droppedTimeout() {
        let clock = Clock()
        var fired = 0
        var timeout: ConnectionTimeout? = ConnectionTimeout(clock: clock) { fired += 1 }
        timeout?.setTimeout(1)
        timeout = nil
        clock.advance(2)
        #expect(fired == 0)
    }

    @Test("a TimeoutMixin protocol is closed when idle and kept open by activity")
    func mixinClosesIdleConnection() {
        let clock = Clock()
        let idle = IdleLineProtocol(clock: clock)
        let transport = idle.connectRecording()
        #expect(idle.timeOut == 10)
        clock.advance(7)
        idle.receive("still here\r\n")
        clock.advance(7)
        #expect(transport.loseConnectionCount == 0)
        clock.advance(3)
        #expect(transport.loseConnectionCount == 1)
    }

    @Test("connectionLost cancels the timeout of a TimeoutMixin protocol")
    func mixinCancelsOnLost() {
        let clock = Clock()
        let idle = IdleLineProtocol(clock: clock)
        let transport = idle.connectRecording()
        idle.connectionLost(reason: Failure(ConnectionDone()))
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(20)
        #expect(transport.loseConnectionCount == 0)
    }
}
