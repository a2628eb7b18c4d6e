import Testing
import TorsionCore

/// `addTimeout(_:clock:onTimeoutCancel:)` on a deterministic Clock
/// (Twisted's DeferredAddTimeoutTests).
@Suite("Deferred addTimeout")
struct DeferredTimeoutTests {
    /// Twisted's `_overrideFunc`: replaces whatever the timed-out Deferred holds.
    static func override(_ result: Result<String, Failure>, _ timeout: Double) -> String { "OVERRIDDEN" }

    @Test("addTimeout returns the same chain, so callbacks can follow it")
    func chainable() throws {
        let clock = Clock()
        let d = Deferred<Void>()
        let done = d.addTimeout(5, clock: clock).addCallback { "done" }
        try d.callback()
        #expect(successResult(of: done) == "done")
    }

    @Test("firing before the timeout cancels the timer: no pending delayed call, no later cancel")
    func successBeforeTimeout() throws {
        let clock = Clock()
        let d = Deferred<String>()
        d.addTimeout(10, clock: clock)
        let inner = Deferred<Void>()
        var callbacked: String?
        d.addCallback { value -> Deferred<Void> in
            callbacked = value; return inner
        }
        try d.callback("results")
        #expect(callbacked == "results")
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(15)
        #expect(hasNoResult(inner))
    }

    @Test("failing before the timeout cancels the timer and keeps the failure")
    func failureBeforeTimeout() throws {
        let clock = Clock()
        let d = Deferred<String>()
        d.addTimeout(10, clock: clock, onTimeoutCancel: Self.override)
        let inner = Deferred<String>()
        var errbacked: Failure?
        d.addErrback { failure -> Deferred<String> in
            errbacked = failure; return inner
        }
        try d.errback(TestError("fail"))
        #expect(errbacked?.errorMessage == "fail")
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(15)
        #expect(hasNoResult(inner))
    }

    @Test("not firing in time fails with TimeoutError naming the timeout")
    func timedOut() throws {
        let clock = Clock()
        let d = Deferred<Void>()
        d.addTimeout(10, clock: clock)
        clock.advance(9.999)
        #expect(hasNoResult(d))
        clock.advance(0.001)
        let failure = try #require(failureResult(of: d))
        #expect(failure.error(as: TimeoutError.self) != nil)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("onTimeoutCancel may replace the timeout with a value")
    func timedOutCustom() throws {
        let clock = Clock()
        let d = Deferred<String>()
        d.addTimeout(10, clock: clock, onTimeoutCancel: Self.override)
        clock.advance(15)
        #expect(successResult(of: d) == "OVERRIDDEN")
    }

    @Test("onTimeoutCancel receives the cancellation outcome and the timeout")
    func onTimeoutCancelArguments() throws {
        let clock = Clock()
        var received: [String] = []
        let d = Deferred<String>()
        d.addTimeout(2.5, clock: clock) { result, timeout in
            received.append("\(result.isFailureOfType(CancelledError.self)) \(timeout)")
            throw TestError("custom timeout")
        }
        clock.advance(3)
        #expect(received == ["true 2.5"])
        #expect(failureResult(of: d)?.errorMessage == "custom timeout")
    }

    @Test("a canceller that callbacks wins over the timeout")
    func cancellerSuccess() throws {
        let clock = Clock()
        let d = Deferred<String>(canceller: { try? $0.callback("I was cancelled!") })
        d.addTimeout(10, clock: clock)
        clock.advance(15)
        #expect(successResult(of: d) == "I was cancelled!")
    }

    @Test("a canceller's own failure passes through the timeout unchanged")
    func cancellerFailure() throws {
        let clock = Clock()
        let d = Deferred<String>(canceller: { try? $0.errback(TestError("what!")) })
        d.addTimeout(10, clock: clock)
        clock.advance(15)
        #expect(failureResult(of: d)?.error(as: TestError.self) == TestError("what!"))
    }

    @Test("a custom onTimeoutCancel also handles a canceller's failure")
    func cancellerFailureCustom() throws {
        let clock = Clock()
        let d = Deferred<String>(canceller: { try? $0.errback(TestError("what!")) })
        d.addTimeout(10, clock: clock, onTimeoutCancel: Self.override)
        clock.advance(15)
        #expect(successResult(of: d) == "OVERRIDDEN")
    }

    @Test(
        "a manual cancel before the timeout keeps CancelledError and stops the timer",
        arguments: [false, true])
    func cancelBeforeTimeout(custom: Bool) throws {
        let clock = Clock()
        let d = Deferred<String>()
        if custom {
            d.addTimeout(10, clock: clock, onTimeoutCancel: Self.override)
        } else {
            d.addTimeout(10, clock: clock)
        }
        let inner = Deferred<String>()
        var cancelled: Failure?
        d.addErrback { failure -> Deferred<String> in
            cancelled = failure; return inner
        }
        d.cancel()
        #expect(cancelled?.check(CancelledError.self) != nil)
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(15)
        #expect(hasNoResult(inner))
    }

    @Test("an errback added before the timeout sees CancelledError; passed on, it becomes TimeoutError")
    func errbackBeforeTimeout() throws {
        let clock = Clock()
        let d = Deferred<Void>()
        var seen: Failure?
        d.addErrback { (failure: Failure) throws -> Void in
            seen = failure; throw failure
        }
        d.addTimeout(10, clock: clock)
        clock.advance(15)
        #expect(seen?.check(CancelledError.self) != nil)
        #expect(failureResult(of: d)?.error(as: TimeoutError.self) != nil)
    }

    @Test("an errback added before the timeout that handles CancelledError makes the Deferred succeed")
    func errbackBeforeTimeoutSuppresses() throws {
        let clock = Clock()
        let d = Deferred<Void>()
        d.addErrback { failure in _ = try failure.trap(CancelledError.self) }
        d.addTimeout(10, clock: clock)
        clock.advance(15)
        #expect(successResult(of: d) != nil)
    }

    @Test("with a custom onTimeoutCancel, it runs even when an earlier errback recovered")
    func errbackBeforeTimeoutCustom() throws {
        let clock = Clock()
        let d = Deferred<String>()
        d.addErrback { _ in "recovered" }
        d.addTimeout(10, clock: clock, onTimeoutCancel: Self.override)
        clock.advance(15)
        #expect(successResult(of: d) == "OVERRIDDEN")
    }

    @Test("a callback added before the timeout runs with the canceller's result")
    func callbackBeforeTimeoutWithCanceller() throws {
        let clock = Clock()
        let d = Deferred<String>(canceller: { try? $0.callback("success") })
        var callbacked: String?
        d.addCallback { value -> String in
            callbacked = value; return value
        }
        d.addTimeout(10, clock: clock)
        clock.advance(15)
        #expect(callbacked == "success")
        #expect(successResult(of: d) == "success")
    }

    @Test("a timeout while waiting on an inner Deferred cancels the inner one")
    func timeoutCancelsInner() throws {
        let clock = Clock()
        var innerCancelled = false
        let inner = Deferred<String>(canceller: { _ in innerCancelled = true })
        let d = Deferred<Void>()
        let waiting = d.addCallback { _ in inner }
        waiting.addTimeout(5, clock: clock)
        try d.callback()
        clock.advance(5)
        #expect(innerCancelled)
        #expect(failureResult(of: waiting)?.error(as: TimeoutError.self) != nil)
    }

    @Test("addTimeout schedules one delayed call at now + timeout, removed when the Deferred fires")
    func oneDelayedCall() throws {
        let clock = Clock()
        let d = Deferred<Int>()
        d.addTimeout(1, clock: clock)
        #expect(clock.getDelayedCalls().count == 1)
        #expect(clock.getDelayedCalls().first?.time == 1)
        try d.callback(1)
        #expect(clock.getDelayedCalls().isEmpty)
    }
}
