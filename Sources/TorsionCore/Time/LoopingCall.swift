/// Why a ``LoopingCall`` refused a request. Twisted raises `AssertionError`
/// for the state errors and `ValueError` for a bad interval.
public enum LoopingCallError: Error, Equatable, CustomStringConvertible {
    /// ``LoopingCall/start(interval:now:)`` while the loop is running.
    case alreadyRunning
    /// ``LoopingCall/stop()`` or ``LoopingCall/reset()`` while the loop is
    /// not running.
    case notRunning
    /// ``LoopingCall/start(interval:now:)`` with an interval that is
    /// negative, NaN or infinite.
    case invalidInterval(Double)
    /// ``LoopingCall/start(interval:now:)`` after ``LoopingCall/stop()``
    /// while the Deferred of the last call is still pending: the loop has
    /// not finished stopping. (Twisted allows it and then schedules twice.)
    case stillStopping

    /// Names the refused request.
    public var description: String {
        switch self {
        case .alreadyRunning: "LoopingCallError: tried to start an already running LoopingCall"
        case .notRunning: "LoopingCallError: the LoopingCall is not running"
        case .invalidInterval(let interval):
            "LoopingCallError: interval must be finite and >= 0, got \(interval)"
        case .stillStopping:
            "LoopingCallError: the LoopingCall is stopping, waiting for its last call's Deferred"
        }
    }
}

/// Calls a function repeatedly, every ``interval`` seconds on a
/// ``ReactorTime``: Twisted's `twisted.internet.task.LoopingCall`.
///
/// Calls stay on the grid `startTime + k × interval`: when a call runs late
/// (the loop was busy, the clock jumped, or the function took long), the
/// ticks that were missed are skipped and the next call is scheduled at the
/// next grid point still in the future, so the loop never drifts and never
/// bursts. A function that returns a Deferred is not called again before
/// that Deferred fires. `withCount(clock:_:)` hands the function the number
/// of grid points elapsed since its previous call.
///
/// An interval of 0 calls the function again on every turn of the loop
/// (with ``Clock``, again within the same `advance`, until stopped).
///
/// Reactor thread only.
public final class LoopingCall {
    /// What is called on each tick: a plain function, or one that receives
    /// the number of elapsed intervals.
    private enum Body {
        case plain(() throws -> Deferred<Void>)
        case counting((Int) throws -> Deferred<Void>)
    }

    /// The scheduler the loop runs on.
    public let clock: any ReactorTime
    private let body: Body

    /// `true` from ``start(interval:now:)`` until ``stop()`` is called or
    /// the function fails; `false` by the time the Deferred returned by
    /// ``start(interval:now:)`` fires.
    public private(set) var running = false
    /// Seconds between calls, as given to ``start(interval:now:)``; `nil`
    /// before the first start.
    public private(set) var interval: Double?
    /// The origin of the grid of call times: when the loop was started or
    /// last ``reset()``; `nil` before the first start.
    public private(set) var startTime: Double?

    /// The next scheduled tick; `nil` while the function runs or while its
    /// Deferred is pending.
    private var call: DelayedCall?
    /// Fired with `self` when the loop stops, or with the function's failure.
    private var deferred: Deferred<LoopingCall>?
    /// `true` while the Deferred returned by the function is pending.
    private var waitingForCall = false
    /// Whether the last start called the function at once.
    private var runAtStart = false
    /// When the counting function was last called (for `withCount(clock:_:)`).
    private var lastCountedTime: Double?

    private init(clock: any ReactorTime, body: Body) {
        self.clock = clock
        self.body = body
    }

    /// Makes a loop calling `function`; a thrown error stops the loop and
    /// fails the Deferred returned by ``start(interval:now:)``.
    public convenience init(clock: any ReactorTime, _ function: @escaping () throws -> Void) {
        self.init(clock: clock, body: .plain { try function(); return succeed() })
    }

    /// Makes a loop calling `function`, which returns a Deferred: the next
    /// call is scheduled only once it fired (the value it fires with is
    /// ignored), and its failure stops the loop and fails the Deferred
    /// returned by ``start(interval:now:)``.
    public convenience init<Ignored>(
        clock: any ReactorTime, _ function: @escaping () throws -> Deferred<Ignored>
    ) {
        self.init(clock: clock, body: .plain { try Self.discardingValue(function()) })
    }

    /// Makes a loop whose function receives the number of intervals elapsed
    /// since its previous call (Twisted's `LoopingCall.withCount`): normally
    /// 1, more when ticks were skipped, never 0; always 1 with interval 0.
    public static func withCount(
        clock: any ReactorTime, _ function: @escaping (Int) throws -> Void
    ) -> LoopingCall {
        LoopingCall(clock: clock, body: .counting { try function($0); return succeed() })
    }

    /// `withCount(clock:_:)` for a function returning a Deferred to wait
    /// for before the next call (the value it fires with is ignored).
    public static func withCount<Ignored>(
        clock: any ReactorTime, _ function: @escaping (Int) throws -> Deferred<Ignored>
    ) -> LoopingCall {
        LoopingCall(clock: clock, body: .counting { try discardingValue(function($0)) })
    }

    private static func discardingValue<Ignored>(_ deferred: Deferred<Ignored>) -> Deferred<Void> {
        deferred.addCallback { (_: Ignored) -> Void in }
    }

    // MARK: Control

    /// Starts calling the function every `interval` seconds, at once when
    /// `now` is `true`, otherwise first after one interval.
    ///
    /// - Returns: a Deferred fired with `self` when ``stop()`` ends the loop,
    ///   or failed with the function's error (which also stops the loop). If
    ///   the first call fails at once, it has already failed on return.
    /// - Throws: ``LoopingCallError/alreadyRunning`` while running,
    ///   ``LoopingCallError/stillStopping`` while a stopped loop waits for
    ///   its last call, ``LoopingCallError/invalidInterval(_:)`` for a
    ///   negative, NaN or infinite interval.
    @discardableResult
    public func start(interval: Double, now: Bool = true) throws(LoopingCallError) -> Deferred<LoopingCall> {
        guard !running else { throw .alreadyRunning }
        guard !waitingForCall else { throw .stillStopping }
        guard interval >= 0, interval.isFinite else { throw .invalidInterval(interval) }
        running = true
        // The first call may fail and clear `self.deferred`: keep our own.
        let deferred = Deferred<LoopingCall>()
        self.deferred = deferred
        let startTime = clock.seconds()
        self.startTime = startTime
        self.interval = interval
        runAtStart = now
        if now {
            tick()
        } else {
            schedule(from: startTime)
        }
        return deferred
    }

    /// Stops the loop. If no call is in progress, the Deferred returned by
    /// ``start(interval:now:)`` fires with `self` at once; otherwise (the
    /// function is running, or its Deferred is pending) it fires when that
    /// call finishes.
    ///
    /// - Throws: ``LoopingCallError/notRunning`` when not running.
    public func stop() throws(LoopingCallError) {
        guard running else { throw .notRunning }
        running = false
        if let call {
            try? call.cancel()  // Scheduled by us and still pending: active.
            self.call = nil
            finish(with: .success(self))
        }
    }

    /// Skips the pending tick and restarts the grid from now: the next call
    /// is one interval from now. Does nothing while a call is in progress.
    ///
    /// - Throws: ``LoopingCallError/notRunning`` when not running.
    public func reset() throws(LoopingCallError) {
        guard running else { throw .notRunning }
        if let call {
            try? call.cancel()  // Scheduled by us and still pending: active.
            self.call = nil
            let now = clock.seconds()
            startTime = now
            schedule(from: now)
        }
    }

    // MARK: Ticks

    /// Calls the function and, once its outcome is known, schedules the
    /// next tick or ends the loop.
    private func tick() {
        call = nil
        let outcome: Deferred<Void>
        switch body {
        case .plain(let function):
            outcome = maybeDeferred(function)
        case .counting(let function):
            guard let count = elapsedIntervals() else {
                outcome = succeed()
                break
            }
            outcome = maybeDeferred { try function(count) }
        }
        waitingForCall = true
        outcome.addCallbacks(
            { _ in
                self.waitingForCall = false
                if self.running {
                    self.schedule(from: self.clock.seconds())
                } else {
                    self.finish(with: .success(self))
                }
            },
            { failure in
                self.waitingForCall = false
                self.running = false
                self.finish(with: .failure(failure))
            })
    }

    private func finish(with result: Result<LoopingCall, any Error>) {
        let deferred = self.deferred
        self.deferred = nil
        try? deferred?.fire(with: result)
    }

    /// Schedules the next tick at the first grid point after `now`.
    private func schedule(from now: Double) {
        call = clock.callLater(delayToNextTick(from: now)) { [self] in tick() }
    }

    private func delayToNextTick(from now: Double) -> Double {
        guard let interval, let startTime, interval > 0 else { return 0 }
        let untilNextTick = interval - Self.flooredRemainder(now - startTime, interval)
        // Added to a much larger `now`, a tiny remainder can vanish: then
        // `now` is itself a grid point and the next one is a whole interval
        // away (Twisted's LoopingCall makes the same check).
        if now == now + untilNextTick { return interval }
        return untilNextTick
    }

    /// The remainder with the sign of `divisor`, as Python's `%`, so a
    /// clock that stepped backwards still lands on the grid.
    private static func flooredRemainder(_ dividend: Double, _ divisor: Double) -> Double {
        let remainder = dividend.truncatingRemainder(dividingBy: divisor)
        if remainder != 0 && (remainder < 0) != (divisor < 0) { return remainder + divisor }
        return remainder
    }

    /// For a counting loop: the number of grid points crossed since the
    /// previous call (counting the start as a call when it ran at once), or
    /// `nil` when none was, in which case the function is not called.
    private func elapsedIntervals() -> Int? {
        let now = clock.seconds()
        guard let interval, let startTime, interval > 0 else {
            lastCountedTime = now
            return 1
        }
        var last = lastCountedTime ?? startTime
        if lastCountedTime == nil && runAtStart { last -= interval }
        let count = gridIndex(of: now, startTime, interval) - gridIndex(of: last, startTime, interval)
        guard count > 0 else { return nil }
        lastCountedTime = now
        return Int(count)
    }

    /// The number of whole intervals from `startTime` to `time`, truncated
    /// toward zero as Python's `int()`. Clamped to ±2^61 so that a tiny
    /// interval over a long time yields a huge count instead of trapping on
    /// conversion to `Int`.
    private func gridIndex(of time: Double, _ startTime: Double, _ interval: Double) -> Double {
        let limit = Double(1 << 61)
        let index = ((time - startTime) / interval).rounded(.towardZero)
        return min(max(index, -limit), limit)
    }
}

extension LoopingCall: CustomStringConvertible {
    /// The interval and state, for logs and test failures.
    public var description: String {
        let interval = self.interval.map { "\($0)" } ?? "nil"
        return "LoopingCall(interval: \(interval), \(running ? "running" : "stopped"))"
    }
}
