import TorsionCore

// MARK: - ReactorTime

extension Reactor: ReactorTime {
    /// Seconds on `CLOCK_MONOTONIC`; only differences are meaningful.
    public func seconds() -> Double { monotonicSeconds() }

    /// Runs `function` on the reactor thread `delay` seconds from now, at
    /// the earliest on the next turn. Any delay is safe: a far-future call
    /// (`callLater(1e12)`) only makes the loop wait as long as its poller
    /// can express, then wait again. Reactor thread only.
    @discardableResult
    public func callLater(_ delay: Double, _ function: @escaping () -> Void) -> DelayedCall {
        assertInIOThread()
        return timers.schedule(at: seconds() + delay, function)
    }

    /// The calls scheduled and still active, in no particular order.
    /// Reactor thread only.
    public func getDelayedCalls() -> [DelayedCall] {
        assertInIOThread()
        return timers.activeCalls
    }
}
