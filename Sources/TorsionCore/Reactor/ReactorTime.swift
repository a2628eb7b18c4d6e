/// Scheduling of calls in time: Twisted's `IReactorTime`.
///
/// Implemented by every reactor backend and by ``Clock``, so code written
/// against `ReactorTime` can be tested deterministically. Reactor thread
/// only.
public protocol ReactorTime: AnyObject {
    /// The current time in seconds on the scheduler's monotonic clock. Only
    /// differences are meaningful.
    func seconds() -> Double

    /// Runs `function` once, `delay` seconds from now (at the earliest on
    /// the next turn of the loop, even for a delay of 0). Returns a handle to
    /// cancel or move the call.
    @discardableResult
    func callLater(_ delay: Double, _ function: @escaping () -> Void) -> DelayedCall

    /// The calls scheduled and still active, in no particular order.
    func getDelayedCalls() -> [DelayedCall]
}

extension ReactorTime {
    /// ``callLater(_:_:)`` with a `Duration`.
    @discardableResult
    public func callLater(_ delay: Duration, _ function: @escaping () -> Void) -> DelayedCall {
        callLater(delay.timeInterval, function)
    }
}

extension Duration {
    /// The duration in seconds as a `Double`, the unit of ``ReactorTime``.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
