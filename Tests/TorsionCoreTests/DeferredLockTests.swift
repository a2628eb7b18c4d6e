import Testing
import TorsionCore

/// `DeferredLock`, `DeferredSemaphore` and their `run` helper (Twisted's
/// OtherPrimitivesTests).
@Suite("DeferredLock and DeferredSemaphore")
struct DeferredLockTests {
    // MARK: DeferredLock

    @Test("acquire fires at once when free; later acquires wait and are served in order by release")
    func lockOrder() throws {
        let lock = DeferredLock()
        var events: [String] = []
        lock.acquire().addCallback { _ in events.append("first") }
        #expect(lock.locked)
        lock.acquire().addCallback { _ in events.append("second") }
        lock.acquire().addCallback { _ in events.append("third") }
        #expect(events == ["first"])
        #expect(lock.waitingCount == 2)
        try lock.release()
        #expect(events == ["first", "second"])
        #expect(lock.locked)
        try lock.release()
        try lock.release()
        #expect(events == ["first", "second", "third"])
        #expect(!lock.locked)
        #expect(lock.waitingCount == 0)
    }

    @Test("acquire fires with the lock itself, held while the waiter's callbacks run")
    func lockHandedOver() throws {
        let lock = DeferredLock()
        _ = lock.acquire()
        var seen: [Bool] = []
        lock.acquire().addCallback { held in seen.append(held === lock && held.locked) }
        try lock.release()
        #expect(seen == [true])
    }

    @Test("releasing a lock nobody holds throws UnbalancedReleaseError and changes nothing")
    func lockUnbalancedRelease() throws {
        let lock = DeferredLock()
        #expect(throws: UnbalancedReleaseError.self) { try lock.release() }
        _ = lock.acquire()
        try lock.release()
        #expect(throws: UnbalancedReleaseError.self) { try lock.release() }
        #expect(!lock.locked)
    }

    @Test("cancelling a waiting acquire withdraws it with CancelledError; the lock skips it")
    func cancelWaitingAcquire() throws {
        let lock = DeferredLock()
        _ = lock.acquire()
        let cancelled = lock.acquire()
        var served: [String] = []
        lock.acquire().addCallback { _ in served.append("next") }
        cancelled.cancel()
        #expect(lock.waitingCount == 1)
        #expect(isCancelled(cancelled))
        try lock.release()
        #expect(served == ["next"])
        try lock.release()
        #expect(!lock.locked)
    }

    @Test("cancelling an acquire that already has the lock does nothing")
    func cancelAcquiredLock() throws {
        let lock = DeferredLock()
        let acquired = lock.acquire()
        var errbacks = 0
        acquired.addErrback { _ in
            errbacks += 1; return lock
        }
        acquired.cancel()
        #expect(errbacks == 0)
        #expect(lock.locked)
    }

    @Test("a waiter fired by someone else is skipped instead of swallowing the lock")
    func misfiredWaiterSkipped() throws {
        let lock = DeferredLock()
        _ = lock.acquire()
        let misfired = lock.acquire()
        try misfired.callback(lock)
        try lock.release()
        #expect(!lock.locked)
    }

    @Test("run acquires, runs the body, and releases when the body's Deferred fires")
    func runWithDeferred() throws {
        let lock = DeferredLock()
        let control = Deferred<String>()
        var events: [String] = []
        let result = lock.run { () -> Deferred<String> in
            events.append("body")
            return control
        }
        result.addCallback { events.append("result \($0)") }
        #expect(events == ["body"])
        #expect(lock.locked)
        lock.acquire().addCallback { _ in events.append("next acquire") }
        try control.callback("second")
        // As in Twisted, the lock is released (and handed to the next waiter)
        // before the body's result travels on.
        #expect(events == ["body", "next acquire", "result second"])
        #expect(lock.locked)
    }

    @Test("run with a synchronous body releases at once and passes its value or error on")
    func runSynchronous() throws {
        let lock = DeferredLock()
        #expect(successResult(of: lock.run { 42 }) == 42)
        #expect(!lock.locked)
        let failed = lock.run { () throws -> Int in throw TestError("body failed") }
        #expect(failureResult(of: failed)?.errorMessage == "body failed")
        #expect(!lock.locked)
    }

    @Test("run with a body returning a Deferred waits for it rather than wrapping it")
    func runUnwrapsDeferred() throws {
        let lock = DeferredLock()
        let result = lock.run { succeed(5) }
        #expect(successResult(of: result) == 5)
        #expect(!lock.locked)
    }

    @Test("run waits for the lock; cancelling it while waiting never runs the body")
    func runCancelledWhileWaiting() throws {
        let lock = DeferredLock()
        _ = lock.acquire()
        var ran = false
        let result = lock.run { ran = true }
        result.cancel()
        #expect(isCancelled(result))
        try lock.release()
        #expect(!ran)
        #expect(!lock.locked)
    }

    @Test("cancelling run while the body's Deferred is pending cancels it and releases the lock")
    func runCancelledWhileRunning() throws {
        let lock = DeferredLock()
        var bodyCancelled = false
        let result = lock.run { Deferred<Int>(canceller: { _ in bodyCancelled = true }) }
        #expect(lock.locked)
        result.cancel()
        #expect(bodyCancelled)
        #expect(!lock.locked)
        #expect(isCancelled(result))
    }

    // MARK: DeferredSemaphore

    @Test("a semaphore lets limit holders in at once and queues the rest in order")
    func semaphore() throws {
        let semaphore = try DeferredSemaphore(tokens: 3)
        var acquired = 0
        for _ in 0..<3 { semaphore.acquire().addCallback { _ in acquired += 1 } }
        #expect(acquired == 3)
        #expect(semaphore.tokens == 0)
        var order: [Int] = []
        for index in 0..<2 { semaphore.acquire().addCallback { _ in order.append(index) } }
        #expect(semaphore.waitingCount == 2)
        try semaphore.release()
        #expect(order == [0])
        #expect(semaphore.tokens == 0)
        try semaphore.release()
        #expect(order == [0, 1])
        for _ in 0..<3 { try semaphore.release() }
        #expect(semaphore.tokens == 3)
        #expect(semaphore.limit == 3)
    }

    @Test("a semaphore refuses fewer than one token", arguments: [0, -1])
    func semaphoreInvalidTokens(tokens: Int) {
        #expect(throws: InvalidSemaphoreTokensError.self) { try DeferredSemaphore(tokens: tokens) }
    }

    @Test("releasing a semaphore more often than acquired throws UnbalancedReleaseError")
    func semaphoreUnbalancedRelease() throws {
        let semaphore = try DeferredSemaphore(tokens: 2)
        #expect(throws: UnbalancedReleaseError.self) { try semaphore.release() }
        _ = semaphore.acquire()
        try semaphore.release()
        #expect(throws: UnbalancedReleaseError.self) { try semaphore.release() }
        #expect(semaphore.tokens == 2)
    }

    @Test("cancelling a waiting semaphore acquire withdraws it; cancelling a served one does nothing")
    func semaphoreCancel() throws {
        let semaphore = try DeferredSemaphore(tokens: 1)
        let served = semaphore.acquire()
        served.cancel()
        #expect(successResult(of: served) === semaphore)
        var outcome: [String] = []
        let waiting = semaphore.acquire().addCallbacks(
            { _ in outcome.append("acquired") },
            { failure in outcome.append("\(failure.check(CancelledError.self) != nil)") })
        waiting.cancel()
        #expect(outcome == ["true"])
        #expect(semaphore.waitingCount == 0)
        try semaphore.release()
        #expect(semaphore.tokens == 1)
    }

    @Test("run on a semaphore bounds how many bodies run at once")
    func semaphoreRun() throws {
        let semaphore = try DeferredSemaphore(tokens: 2)
        let controls = (0..<4).map { _ in Deferred<Int>() }
        var running: [Int] = []
        var results: [Int] = []
        for (index, control) in controls.enumerated() {
            semaphore.run { () -> Deferred<Int> in
                running.append(index)
                return control
            }.addCallback { results.append($0) }
        }
        #expect(running == [0, 1])
        try controls[1].callback(10)
        #expect(running == [0, 1, 2])
        try controls[0].callback(0)
        try controls[2].callback(20)
        #expect(running == [0, 1, 2, 3])
        try controls[3].callback(30)
        #expect(results == [10, 0, 20, 30])
        #expect(semaphore.tokens == 2)
    }
}
