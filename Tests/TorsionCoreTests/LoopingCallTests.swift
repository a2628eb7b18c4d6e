import Testing
import TorsionCore

private struct Boom: Error {}

/// Helpers shared by the time and concurrency test files.
enum TimeTestSupport {
    /// The outcome `deferred` has fired with, or `nil` while it has not.
    /// Reading it consumes the result (the chain continues with `Void`), so
    /// a failure read here is not reported as unhandled.
    static func outcome<Value>(of deferred: Deferred<Value>) -> Result<Value, Failure>? {
        var outcome: Result<Value, Failure>?
        deferred.addBoth { outcome = $0 }
        return outcome
    }

    /// The failure `deferred` has failed with, or `nil` when it has not
    /// fired or succeeded. Consumes the result like ``outcome(of:)``.
    static func failure<Value>(of deferred: Deferred<Value>) -> Failure? {
        guard case .failure(let failure) = outcome(of: deferred) else { return nil }
        return failure
    }
}

@Suite("LoopingCall")
struct LoopingCallTests {
    @Test("start calls at once and then every interval; stop fires the Deferred with the loop")
    func basic() throws {
        let clock = Clock()
        var calls = 0
        let loop = LoopingCall(clock: clock) { calls += 1 }
        let stopped = try loop.start(interval: 0.1)
        #expect(loop.running && loop.interval == 0.1 && loop.startTime == 0)
        clock.pump([0.05, 0.1, 0.1])
        #expect(calls == 3)
        #expect(!stopped.called)
        try loop.stop()
        #expect(!loop.running)
        #expect(try TimeTestSupport.outcome(of: stopped)?.get() === loop)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("start with now: false waits one interval before the first call")
    func delayedStart() throws {
        let clock = Clock()
        var calledAt: [Double] = []
        let loop = LoopingCall(clock: clock) { calledAt.append(clock.seconds()) }
        try loop.start(interval: 0.1, now: false)
        #expect(calledAt.isEmpty)
        clock.pump([0.05, 0.1, 0.1])
        #expect(calledAt.count == 2)
        try loop.stop()
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("a negative, NaN or infinite interval is refused and the loop stays stopped")
    func invalidInterval() {
        let loop = LoopingCall(clock: Clock()) {}
        #expect(throws: LoopingCallError.invalidInterval(-1)) { try loop.start(interval: -1) }
        #expect(throws: LoopingCallError.self) { try loop.start(interval: .nan) }
        #expect(throws: LoopingCallError.invalidInterval(.infinity)) { try loop.start(interval: .infinity) }
        #expect(!loop.running)
    }

    @Test("start while running, and stop or reset while stopped, throw named errors")
    func stateErrors() throws {
        let clock = Clock()
        let loop = LoopingCall(clock: clock) {}
        #expect(throws: LoopingCallError.notRunning) { try loop.stop() }
        #expect(throws: LoopingCallError.notRunning) { try loop.reset() }
        try loop.start(interval: 1)
        #expect(throws: LoopingCallError.alreadyRunning) { try loop.start(interval: 1) }
        try loop.stop()
        #expect(throws: LoopingCallError.notRunning) { try loop.stop() }
    }

    @Test("stop before the first delayed call: nothing runs and nothing stays scheduled",
          arguments: [0.0, 10.0])
    func stopBeforeFirstCall(interval: Double) throws {
        let clock = Clock()
        var calls = 0
        let loop = LoopingCall(clock: clock) { calls += 1 }
        let stopped = try loop.start(interval: interval, now: false)
        try loop.stop()
        clock.advance(100)
        #expect(calls == 0)
        #expect(clock.getDelayedCalls().isEmpty)
        #expect(try TimeTestSupport.outcome(of: stopped)?.get() === loop)
    }

    @Test("a stopped loop can be started again")
    func restart() throws {
        let clock = Clock()
        var calls = 0
        let loop = LoopingCall(clock: clock) { calls += 1 }
        try loop.start(interval: 1)
        try loop.stop()
        try loop.start(interval: 2, now: false)
        clock.advance(2)
        #expect(calls == 2 && loop.interval == 2)
    }

    @Test("reset skips the pending call and restarts the grid from now")
    func reset() throws {
        let clock = Clock()
        var calledAt: [Double] = []
        let loop = LoopingCall(clock: clock) { calledAt.append(clock.seconds()) }
        try loop.start(interval: 2, now: false)
        clock.advance(1)
        try loop.reset()
        #expect(loop.startTime == 1)
        clock.advance(1)
        #expect(calledAt.isEmpty)
        clock.advance(1)
        #expect(calledAt == [3])
    }

    @Test("late calls skip missed ticks and stay on the grid")
    func clockJumpsSkipTicks() throws {
        let clock = Clock()
        var calledAt: [Double] = []
        let loop = LoopingCall(clock: clock) { calledAt.append(clock.seconds()) }
        try loop.start(interval: 0.5)
        clock.advance(2)
        clock.advance(1)
        clock.advance(0)
        #expect(calledAt == [0, 2, 3])
        clock.advance(0.25)
        #expect(clock.getDelayedCalls().map(\.time) == [3.5])
    }

    @Test("a function that outlasts the interval skips the ticks that passed meanwhile")
    func slowFunctionSkipsTicks() throws {
        let clock = Clock()
        var calledAt: [Double] = []
        var duration = 2.0
        let loop = LoopingCall(clock: clock) {
            calledAt.append(clock.seconds())
            clock.advance(duration)
        }
        try loop.start(interval: 0.5)
        #expect(calledAt == [0] && clock.seconds() == 2)
        clock.advance(0)  // 2.0 is now, not the future: skipped
        #expect(calledAt == [0])
        duration = 1
        clock.advance(0.5)
        #expect(calledAt == [0, 2.5] && clock.seconds() == 3.5)
        clock.advance(0)
        #expect(calledAt == [0, 2.5])
        duration = 0
        clock.advance(0.5)
        #expect(calledAt == [0, 2.5, 4])
    }

    @Test("interval 0 calls again on every pass until stopped")
    func zeroInterval() throws {
        let clock = Clock()
        var calls = 0
        var loop: LoopingCall?
        loop = LoopingCall(clock: clock) {
            calls += 1
            if calls == 6 { try loop?.stop() }
        }
        let stopped = try #require(loop).start(interval: 0)
        #expect(calls == 1)
        clock.advance(0)
        #expect(calls == 6)
        #expect(try TimeTestSupport.outcome(of: stopped)?.get() === loop)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("a throwing function stops the loop and fails its Deferred")
    func failureStops() throws {
        let clock = Clock()
        var calls = 0
        let loop = LoopingCall(clock: clock) {
            calls += 1
            if calls == 2 { throw Boom() }
        }
        let stopped = try loop.start(interval: 1)
        var runningWhenFired: Bool?
        stopped.addBoth { _ in runningWhenFired = loop.running }
        clock.advance(1)
        #expect(calls == 2 && !loop.running && runningWhenFired == false)
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(5)
        #expect(calls == 2)
    }

    @Test("a first call that throws at start returns an already failed Deferred")
    func failureAtStart() throws {
        let loop = LoopingCall(clock: Clock()) { throw Boom() }
        let stopped = try loop.start(interval: 1)
        #expect(TimeTestSupport.failure(of: stopped)?.error is Boom)
        #expect(!loop.running)
    }

    @Test("a function that stops the loop and then throws fails the Deferred")
    func stopThenThrow() throws {
        let clock = Clock()
        var loop: LoopingCall?
        loop = LoopingCall(clock: clock) {
            try loop?.stop()
            throw Boom()
        }
        let stopped = try #require(loop).start(interval: 1, now: false)
        clock.advance(1)
        #expect(TimeTestSupport.failure(of: stopped)?.error is Boom)
    }

    @Test("the next call waits for the Deferred the function returned")
    func waitsForDeferred() throws {
        let clock = Clock()
        var pending: [Deferred<Void>] = []
        let loop = LoopingCall(clock: clock) { () -> Deferred<Void> in
            let deferred = Deferred<Void>()
            pending.append(deferred)
            return deferred
        }
        try loop.start(interval: 1)
        clock.advance(5)
        #expect(pending.count == 1)
        #expect(clock.getDelayedCalls().isEmpty)
        try pending[0].callback()
        #expect(clock.getDelayedCalls().map(\.time) == [6])
        clock.advance(1)
        #expect(pending.count == 2)
    }

    @Test("a failure of the returned Deferred stops the loop with that failure")
    func deferredFailurePropagates() throws {
        let clock = Clock()
        let loop = LoopingCall(clock: clock) { () -> Deferred<Void> in
            deferLater(clock, 0.3) { () throws -> Void in throw Boom() }
        }
        let stopped = try loop.start(interval: 1)
        clock.advance(0.3)
        #expect(TimeTestSupport.failure(of: stopped)?.error is Boom)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("stop while the returned Deferred is pending fires when that Deferred fires")
    func stopWhileWaiting() throws {
        let clock = Clock()
        let gate = Deferred<Void>()
        let loop = LoopingCall(clock: clock) { gate }
        let stopped = try loop.start(interval: 1)
        try loop.stop()
        #expect(!stopped.called)
        try gate.callback()
        #expect(try TimeTestSupport.outcome(of: stopped)?.get() === loop)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("start is refused until a stopped loop's pending call finished, then works once")
    func restartWhileStopping() throws {
        let clock = Clock()
        var gates: [Deferred<Void>] = []
        let loop = LoopingCall(clock: clock) { () -> Deferred<Void> in
            gates.append(Deferred())
            return gates[gates.count - 1]
        }
        try loop.start(interval: 1)
        try loop.stop()
        #expect(throws: LoopingCallError.stillStopping) { try loop.start(interval: 1) }
        try gates[0].callback()
        #expect(clock.getDelayedCalls().isEmpty)
        try loop.start(interval: 1, now: false)
        #expect(clock.getDelayedCalls().count == 1)
        clock.advance(1)
        #expect(gates.count == 2)
    }
}

@Suite("LoopingCall.withCount")
struct LoopingCallCountTests {
    @Test("the count is the number of intervals elapsed since the previous call")
    func countsSkippedTicks() throws {
        let clock = Clock()
        var calls: [(Double, Int)] = []
        let loop = LoopingCall.withCount(clock: clock) { calls.append((clock.seconds(), $0)) }
        try loop.start(interval: 0.5)
        // Binary fractions keep the times exact.
        clock.advance(0.5 + 0.0625)
        clock.advance(3 * 0.5 + 0.0625)
        clock.advance(0)
        #expect(calls.map(\.1) == [1, 1, 3])
        #expect(calls.map(\.0) == [0, 0.5625, 2.125])
    }

    @Test("a jump of many intervals calls once with the count, then continues on the grid")
    func bigJumpStaysOnGrid() throws {
        let clock = Clock()
        var counts: [Int] = []
        let loop = LoopingCall.withCount(clock: clock) { counts.append($0) }
        try loop.start(interval: 1, now: false)
        clock.advance(1_000.5)
        #expect(counts == [1_000])
        #expect(clock.getDelayedCalls().map(\.time) == [1_001])
        clock.advance(0.5)
        #expect(counts == [1_000, 1])
    }

    @Test("a late call less than one interval late still counts 1")
    func lengthyIntervalCountsOne() throws {
        let clock = Clock()
        var counts: [Int] = []
        let loop = LoopingCall.withCount(clock: clock) { counts.append($0) }
        try loop.start(interval: 0.5)
        clock.advance(0.5625)  // one interval and a bit
        clock.advance(0.875)  // 1.75 intervals later, at 1.4375: still count 1
        clock.advance(0.125)  // back on time at 1.5625
        #expect(counts == [1, 1, 1, 1])
    }

    @Test("counts never include 0 and sum to the intervals elapsed despite rounding")
    func floatingPointBoundary() throws {
        let clock = Clock()
        var counts: [Int] = []
        let loop = LoopingCall.withCount(clock: clock) { counts.append($0) }
        let interval = 1.0 / 10
        try loop.start(interval: interval, now: false)
        for _ in 0..<10 { clock.advance(interval) }
        let epsilon = 1.0 - (0..<10).reduce(0.0) { total, _ in total + interval }
        #expect(epsilon != 0)  // otherwise the test does not exercise rounding
        clock.advance(epsilon)
        #expect(clock.seconds() >= 1)
        #expect(counts.reduce(0, +) == 10)
        #expect(!counts.contains(0))
    }

    @Test("with interval 0 the count is always 1")
    func zeroIntervalCountsOne() throws {
        let clock = Clock()
        var counts: [Int] = []
        var loop: LoopingCall?
        loop = LoopingCall.withCount(clock: clock) {
            counts.append($0)
            if counts.count == 5 { try loop?.stop() }
        }
        let stopped = try #require(loop).start(interval: 0, now: false)
        clock.pump([0, 1, 0])
        #expect(counts == [1, 1, 1, 1, 1])
        #expect(try TimeTestSupport.outcome(of: stopped)?.get() === loop)
    }

    @Test("ticks missed while the returned Deferred was pending are counted")
    func deferredCountsMissedTicks() throws {
        let clock = Clock()
        let gate = Deferred<Void>()
        var counts: [Int] = []
        let loop = LoopingCall.withCount(clock: clock) { count -> Deferred<Void> in
            counts.append(count)
            return counts.count == 1 ? gate : succeed()
        }
        try loop.start(interval: 0.25, now: false)
        clock.pump([0.25, 0.5])
        #expect(counts == [1])
        try gate.callback()
        clock.pump([0.25])
        #expect(counts == [1, 3])
    }

    @Test("description shows the interval and the state")
    func description() throws {
        let loop = LoopingCall.withCount(clock: Clock()) { _ in }
        #expect(loop.description == "LoopingCall(interval: nil, stopped)")
        try loop.start(interval: 2)
        #expect(loop.description == "LoopingCall(interval: 2.0, running)")
    }
}
