import Testing
import TorsionCore

private struct Boom: Error {}

@Suite("deferLater")
struct DeferLaterTests {
    @Test("fires with the function's result once the delay has passed, not before")
    func firesAfterDelay() throws {
        let clock = Clock()
        var calls = 0
        let deferred = deferLater(clock, 3) { () -> String in
            calls += 1
            return "done"
        }
        clock.advance(2)
        #expect(calls == 0 && !deferred.called)
        clock.advance(1)
        #expect(calls == 1)
        #expect(try TimeTestSupport.outcome(of: deferred)?.get() == "done")
    }

    @Test("fails with what the function throws")
    func failsWithThrownError() {
        let clock = Clock()
        let deferred = deferLater(clock, 1) { () throws -> Int in throw Boom() }
        clock.advance(1)
        #expect(TimeTestSupport.failure(of: deferred)?.error is Boom)
    }

    @Test("without a function, fires with no value after the delay")
    func noFunction() throws {
        let clock = Clock()
        let deferred = deferLater(clock, 2)
        clock.advance(1.5)
        #expect(!deferred.called)
        clock.advance(0.5)
        #expect(try TimeTestSupport.outcome(of: deferred)?.get() != nil)
    }

    @Test("a function returning a Deferred fires the result when that Deferred fires")
    func chainsReturnedDeferred() throws {
        let clock = Clock()
        let inner = Deferred<Int>()
        let deferred = deferLater(clock, 1) { inner }
        clock.advance(1)
        #expect(deferred.paused)
        try inner.callback(7)
        #expect(try TimeTestSupport.outcome(of: deferred)?.get() == 7)
    }

    @Test("cancel cancels the delayed call, so the function never runs, and fails with CancelledError")
    func cancel() {
        let clock = Clock()
        var calls = 0
        let deferred = deferLater(clock, 1) { calls += 1 }
        deferred.cancel()
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(10)
        #expect(calls == 0)
        #expect(TimeTestSupport.failure(of: deferred)?.error is CancelledError)
    }

    @Test("cancel after the Deferred fired changes nothing")
    func cancelAfterFiring() throws {
        let clock = Clock()
        let deferred = deferLater(clock, 1) { 5 }
        clock.advance(1)
        deferred.cancel()
        #expect(try TimeTestSupport.outcome(of: deferred)?.get() == 5)
    }

    @Test("combined with addTimeout, a timer that expires first cancels the call")
    func timeoutCancels() {
        let clock = Clock()
        var calls = 0
        let deferred = deferLater(clock, 10) { calls += 1 }.addTimeout(2, clock: clock)
        clock.advance(2)
        #expect(TimeTestSupport.failure(of: deferred)?.error is TimeoutError)
        #expect(clock.getDelayedCalls().isEmpty)
        clock.advance(10)
        #expect(calls == 0)
    }
}
