import Testing
import TorsionCore

/// `cancel()` and the canceller (Twisted's DeferredCancellerTests).
@Suite("Deferred cancellation")
struct DeferredCancellationTests {
    /// Records the callback and errback of a single `addCallbacks` level.
    final class Recorder {
        var callbacks: [String] = []
        var errbacks: [Failure] = []

        func attach(to d: Deferred<String>) {
            d.addCallbacks(
                { [self] value in callbacks.append(value) },
                { [self] failure in errbacks.append(failure) })
        }
    }

    @Test("without a canceller, cancel errbacks with CancelledError and runs no callback")
    func noCanceller() throws {
        let d = Deferred<String>()
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        #expect(recorder.callbacks.isEmpty)
        #expect(recorder.errbacks.count == 1)
        #expect(recorder.errbacks.first?.check(CancelledError.self) != nil)
    }

    @Test("without a canceller, one later callback is swallowed and the next throws AlreadyCalledError")
    func oneLateCallbackSwallowed() throws {
        let d = Deferred<String>()
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        try d.callback("late")
        #expect(throws: AlreadyCalledError.self) { try d.callback("later") }
        #expect(throws: AlreadyCalledError.self) { try d.errback(TestError("later")) }
        #expect(recorder.callbacks.isEmpty)
        #expect(recorder.errbacks.count == 1)
    }

    @Test("without a canceller, one later errback is swallowed too")
    func oneLateErrbackSwallowed() throws {
        let d = Deferred<String>()
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        try d.errback(TestError("late"))
        #expect(throws: AlreadyCalledError.self) { try d.callback("later") }
        #expect(recorder.errbacks.count == 1)
        #expect(recorder.errbacks.first?.check(CancelledError.self) != nil)
    }

    @Test("cancelling again after cancel (and a swallowed callback) changes nothing")
    func multipleCancels() throws {
        let d = Deferred<String>()
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        d.cancel()
        try d.callback("swallowed")
        d.cancel()
        #expect(recorder.errbacks.count == 1)
        #expect(recorder.callbacks.isEmpty)
    }

    @Test("a canceller that does not fire: CancelledError, called once, later callbacks throw")
    func cancellerThatDoesNotFire() throws {
        var cancellerCalls = 0
        let d = Deferred<String>(canceller: { _ in cancellerCalls += 1 })
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        d.cancel()
        #expect(cancellerCalls == 1)
        #expect(recorder.errbacks.first?.check(CancelledError.self) != nil)
        #expect(throws: AlreadyCalledError.self) { try d.callback("late") }
        #expect(throws: AlreadyCalledError.self) { try d.errback(TestError("late")) }
    }

    @Test("a canceller that errbacks decides the failure")
    func cancellerThatErrbacks() throws {
        let d = Deferred<String>(canceller: { try? $0.errback(TestError("from canceller")) })
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        #expect(recorder.errbacks.map(\.errorMessage) == ["from canceller"])
    }

    @Test("a canceller that callbacks decides the result")
    func cancellerThatCallbacks() throws {
        let d = Deferred<String>(canceller: { try? $0.callback("hello!") })
        let recorder = Recorder()
        recorder.attach(to: d)
        d.cancel()
        #expect(recorder.callbacks == ["hello!"])
        #expect(recorder.errbacks.isEmpty)
    }

    @Test(
        "cancel after the Deferred fired does nothing and does not call the canceller",
        arguments: [true, false])
    func cancelAfterFiring(succeeded: Bool) throws {
        var cancellerCalls = 0
        let d = Deferred<String>(canceller: {
            cancellerCalls += 1; try? $0.errback(TestError("canceller"))
        })
        let recorder = Recorder()
        recorder.attach(to: d)
        if succeeded { try d.callback("biff!") } else { try d.errback(TestError("first")) }
        d.cancel()
        #expect(cancellerCalls == 0)
        #expect(recorder.callbacks == (succeeded ? ["biff!"] : []))
        #expect(recorder.errbacks.map(\.errorMessage) == (succeeded ? [] : ["first"]))
    }

    @Test("cancelling a Deferred waiting on an inner one cancels the inner one only")
    func cancelNested() throws {
        var innerCancels = 0
        var outerCancels = 0
        let inner = Deferred<String>(canceller: { _ in innerCancels += 1 })
        let outer = Deferred<Void>(canceller: { _ in outerCancels += 1 })
        try outer.callback()
        let waiting = outer.addCallback { _ in inner }
        outer.cancel()
        let recorder = Recorder()
        recorder.attach(to: waiting)
        #expect(innerCancels == 1)
        #expect(outerCancels == 0)
        #expect(recorder.errbacks.first?.check(CancelledError.self) != nil)
        #expect(inner.called)
    }

    @Test("cancelling a Deferred waiting on an inner one nobody else holds still fails it with CancelledError")
    func cancelWaitingOnReleasedInner() throws {
        let outer = Deferred<Void>()
        let waiting = outer.addCallback { _ in Deferred<String>() }
        try outer.callback()
        #expect(outer.paused)
        outer.cancel()
        #expect(isCancelled(waiting))
    }

    @Test("cancelling through an inner Deferred nobody else holds runs its canceller and its callbacks")
    func cancelWaitingOnReleasedInnerWithCanceller() throws {
        var events: [String] = []
        let outer = Deferred<Void>()
        let waiting = outer.addCallback { _ -> Deferred<String> in
            Deferred<String>(canceller: { inner in
                events.append("inner canceller")
                try? inner.callback("revived")
            }).addCallback { value -> String in
                events.append("inner callback \(value)")
                return value.uppercased()
            }
        }
        try outer.callback()
        #expect(events.isEmpty)
        outer.cancel()
        #expect(events == ["inner canceller", "inner callback revived"])
        #expect(successResult(of: waiting) == "REVIVED")
        outer.cancel()
        #expect(events.count == 2)
    }

    @Test("an inner Deferred nobody else holds that fired but is paused: cancel does nothing")
    func cancelWaitingOnReleasedPausedInner() throws {
        let outer = Deferred<Void>()
        let waiting = outer.addCallback { _ -> Deferred<Int> in
            let inner = succeed(1)
            inner.pause()
            return inner
        }
        try outer.callback()
        outer.cancel()
        #expect(hasNoResult(waiting))
        #expect(outer.paused)
    }

    @Test("cancel after the inner Deferred handed over its result does nothing")
    func cancelAfterInnerFired() throws {
        let inner = Deferred<Int>()
        let outer = Deferred<Void>()
        let waiting = outer.addCallback { _ in inner }
        try outer.callback()
        outer.pause()
        try inner.callback(5)
        outer.cancel()
        outer.unpause()
        #expect(successResult(of: waiting) == 5)
    }

    @Test("the canceller is released once the Deferred fires, breaking a Deferred-canceller cycle")
    func cancellerReleasedOnFire() throws {
        final class Owner {
            var deferred: Deferred<Int>?
        }
        weak var weakOwner: Owner?
        do {
            let owner = Owner()
            weakOwner = owner
            let d = Deferred<Int>(canceller: { _ in _ = owner })
            owner.deferred = d
            try d.callback(1)
        }
        #expect(weakOwner == nil)
    }
}
