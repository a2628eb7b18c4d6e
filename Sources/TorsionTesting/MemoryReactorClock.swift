import TorsionCore

/// A ``MemoryReactor`` that is also a deterministic ``TorsionCore/ReactorTime``:
/// Twisted's `MemoryReactorClock`.
///
/// Time is a ``TorsionCore/Clock``: it starts at 0 and moves only when the test calls
/// ``advance(_:)`` or ``pump(_:)``, running every call that falls due.
/// Code that takes one reactor for both scheduling and connecting (a
/// ``TorsionCore/ReconnectingClientFactory`` given this reactor as its clock and
/// connecting through it, for example) is tested with a single object.
/// Test thread only.
public final class MemoryReactorClock: MemoryReactor, ReactorTime {
    /// The clock behind ``seconds()`` and ``callLater(_:_:)``.
    public let clock: Clock

    /// Makes a reactor whose time is `clock` (a fresh clock at 0 by default).
    public init(clock: Clock = Clock()) {
        self.clock = clock
        super.init()
    }

    /// The clock's current time, ``TorsionCore/Clock/rightNow``.
    public func seconds() -> Double { clock.seconds() }

    /// Schedules `function` on the clock; it runs during the ``advance(_:)``
    /// that reaches its time.
    @discardableResult
    public func callLater(_ delay: Double, _ function: @escaping () -> Void) -> DelayedCall {
        clock.callLater(delay, function)
    }

    /// The calls scheduled and still active.
    public func getDelayedCalls() -> [DelayedCall] { clock.getDelayedCalls() }

    /// Moves time forward by `amount` seconds, running the calls that fall
    /// due (``TorsionCore/Clock/advance(_:)-(Double)``).
    public func advance(_ amount: Double) { clock.advance(amount) }

    /// Advances by each of `timings` in turn (``TorsionCore/Clock/pump(_:)``).
    public func pump(_ timings: [Double]) { clock.pump(timings) }

    /// Counts the call, as ``MemoryReactor/iterate(delay:)`` does, and runs
    /// the calls due at the current time, as one turn of a real loop
    /// would; time does not move.
    public override func iterate(delay: Double) {
        super.iterate(delay: delay)
        clock.advance(0)
    }

    /// The current time, as ``seconds()``.
    public var rightNow: Double { clock.rightNow }
}
