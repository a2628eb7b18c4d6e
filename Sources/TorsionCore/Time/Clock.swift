/// A deterministic ``ReactorTime`` for tests: time moves only when the test
/// calls ``advance(_:)``. Twisted's `twisted.internet.task.Clock`.
///
/// It uses the same ``TimerQueue`` as the real reactor, so ordering and
/// cancellation behave exactly as in production, at O(log n) per call.
public final class Clock: ReactorTime {
    /// The current time; starts at 0.
    public private(set) var rightNow: Double = 0
    /// The scheduled calls.
    public private(set) lazy var queue = TimerQueue { [unowned self] in self.rightNow }

    /// Makes a clock at time 0 with nothing scheduled.
    public init() {}

    /// The current time, ``rightNow``.
    public func seconds() -> Double { rightNow }

    /// Schedules `function` at `seconds() + delay`; it runs during the
    /// ``advance(_:)`` that reaches that time.
    @discardableResult
    public func callLater(_ delay: Double, _ function: @escaping () -> Void) -> DelayedCall {
        queue.schedule(at: rightNow + delay, function)
    }

    /// The active calls, in no particular order.
    public func getDelayedCalls() -> [DelayedCall] { queue.activeCalls }

    /// Moves time forward by `amount` seconds and runs every call that is due,
    /// earliest first; calls scheduled while advancing that are due by then
    /// run in the same advance, as with Twisted's Clock.
    public func advance(_ amount: Double) {
        precondition(amount >= 0, "Clock.advance: time cannot move backwards")
        rightNow += amount
        queue.runDueCalls(now: rightNow)
    }

    /// ``advance(_:)`` with a `Duration`.
    public func advance(_ amount: Duration) { advance(amount.timeInterval) }

    /// Advances by each of `timings` in turn, running due calls after each
    /// step (Twisted's `Clock.pump`).
    public func pump(_ timings: [Double]) {
        for amount in timings { advance(amount) }
    }
}
