/// A call scheduled to run at a point in time: what ``ReactorTime/callLater(_:_:)``
/// returns. Twisted's `IDelayedCall`.
///
/// A delayed call is *active* until it runs or is cancelled. Moving it with
/// ``delay(_:)`` or ``reset(_:)`` is only possible while it is active.
/// Reactor thread only, like everything attached to a reactor.
public final class DelayedCall {
    /// The absolute time, in the scheduler's seconds, at which the call runs.
    public private(set) var time: Double

    /// The function to run; dropped once the call has run or been cancelled
    /// so that what it captured is released early.
    private var function: (() -> Void)?

    /// `true` once the call has run.
    public private(set) var called = false

    /// `true` once the call was cancelled.
    public private(set) var cancelled = false

    /// The queue holding the call (weak: a dropped scheduler drops its calls).
    weak var queue: TimerQueue?

    /// Bumped on each (re)scheduling; a heap entry whose sequence differs is
    /// stale and is skipped when it reaches the top.
    var sequence: UInt64 = 0

    init(time: Double, queue: TimerQueue, function: @escaping () -> Void) {
        self.time = time
        self.queue = queue
        self.function = function
    }

    /// `true` while the call is still to run: neither run nor cancelled.
    public var isActive: Bool { !called && !cancelled }

    /// Prevents the call from running.
    ///
    /// - Throws: ``AlreadyCalled`` if it ran, ``AlreadyCancelled`` if it was
    ///   already cancelled.
    public func cancel() throws {
        try checkActive()
        cancelled = true
        function = nil
        queue?.callCancelled(self)
    }

    /// Postpones the call by `seconds` (negative values bring it forward).
    ///
    /// - Throws: ``AlreadyCalled`` or ``AlreadyCancelled`` when not active.
    public func delay(_ seconds: Double) throws {
        try checkActive()
        time += seconds
        queue?.reschedule(self)
    }

    /// Reschedules the call to run `seconds` from now.
    ///
    /// - Throws: ``AlreadyCalled`` or ``AlreadyCancelled`` when not active.
    public func reset(_ seconds: Double) throws {
        try checkActive()
        time = (queue?.now() ?? time) + seconds
        queue?.reschedule(self)
    }

    private func checkActive() throws {
        if called { throw AlreadyCalled() }
        if cancelled { throw AlreadyCancelled() }
    }

    /// Marks the call as run and runs it. Called by the timer queue only.
    func run() {
        guard isActive, let function else { return }
        called = true
        self.function = nil
        function()
    }
}

extension DelayedCall: CustomStringConvertible {
    /// The state and the scheduled time, for logs and test failures.
    public var description: String {
        let state = called ? "called" : cancelled ? "cancelled" : "active"
        return "DelayedCall(time: \(time), \(state))"
    }
}
