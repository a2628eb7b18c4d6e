import Testing
import TorsionCore

/// The callback chain itself: order, switching between the callback and the
/// errback side, firing rules and pausing. Each test states the Twisted rule
/// it checks (twisted/internet/defer.py, twisted/test/test_defer.py).
@Suite("Deferred callback chain")
struct DeferredTests {
    // MARK: Order and switching sides

    @Test("callbacks run in the order added, each result feeding the next")
    func callbacksInOrder() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addCallback { value -> Int in
            events.append("first \(value)"); return value + 1
        }
        .addCallback { value -> String in
            events.append("second \(value)"); return "v\(value)"
        }
        .addCallback { value in events.append("third \(value)") }
        #expect(events.isEmpty)
        try d.callback(1)
        #expect(events == ["first 1", "second 2", "third v2"])
    }

    @Test("a callback added after the Deferred fired runs immediately with the current result")
    func callbackAfterFiring() throws {
        let d = succeed(5)
        var seen: [Int] = []
        d.addCallback { seen.append($0) }
        #expect(seen == [5])
        #expect(d.called)
    }

    @Test("an errback receives the failure; the callbacks before it are passed through")
    func errbackReceivesFailure() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addCallback { value -> Int in
            events.append("callback \(value)"); return value
        }
        .addErrback { failure -> Int in
            events.append("errback \(failure.errorMessage)"); return 0
        }
        .addCallback { value in events.append("after \(value)") }
        try d.errback(TestError("boom"))
        #expect(events == ["errback boom", "after 0"])
    }

    @Test("a throwing callback switches the chain to the errback side")
    func throwingCallbackSwitchesToErrback() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addCallback { _ -> Int in throw TestError("in callback") }
            .addCallback { value -> Int in
                events.append("skipped \(value)"); return value
            }
            .addErrback { failure -> Int in
                events.append("errback \(failure.errorMessage)"); return 7
            }
            .addCallback { value in events.append("back on callbacks with \(value)") }
        try d.callback(1)
        #expect(events == ["errback in callback", "back on callbacks with 7"])
    }

    @Test("an errback that throws keeps the chain on the errback side")
    func throwingErrbackStaysOnErrbacks() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addErrback { _ -> Int in throw TestError("second") }
            .addCallback { value -> Int in
                events.append("skipped \(value)"); return value
            }
            .addErrback { failure -> Int in
                events.append("errback \(failure.errorMessage)"); return 0
            }
        try d.errback(TestError("first"))
        #expect(events == ["errback second"])
    }

    @Test("throw failure re-raises the same failure to the next errback")
    func rethrowFailure() throws {
        let original = Failure(TestError("original"))
        var received: [Failure] = []
        let d = Deferred<Int>()
        d.addErrback { failure -> Int in
            received.append(failure); throw failure
        }
        .addErrback { failure -> Int in
            received.append(failure); return 0
        }
        try d.errback(original)
        #expect(received.count == 2)
        #expect(received.allSatisfy { $0.error(as: TestError.self) == TestError("original") })
        #expect(received.allSatisfy { !($0.error is Failure) })
    }

    @Test("addCallbacks: the errback of a level does not see its own callback's failure")
    func addCallbacksErrbackDoesNotSeeOwnCallback() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addCallbacks(
            { _ -> Int in
                events.append("callback"); throw TestError("from callback")
            },
            { failure -> Int in
                events.append("same-level errback \(failure.errorMessage)"); return 0
            }
        )
        .addErrback { failure -> Int in
            events.append("next-level errback \(failure.errorMessage)"); return 1
        }
        try d.callback(1)
        #expect(events == ["callback", "next-level errback from callback"])
    }

    @Test("addCallback then addErrback: the errback does see the callback's failure")
    func addCallbackThenErrbackSeesFailure() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addCallback { _ -> Int in
            events.append("callback"); throw TestError("from callback")
        }
        .addErrback { failure -> Int in
            events.append("errback \(failure.errorMessage)"); return 0
        }
        try d.callback(1)
        #expect(events == ["callback", "errback from callback"])
    }

    @Test("addCallbacks on a failure runs only the errback side")
    func addCallbacksOnFailure() throws {
        var events: [String] = []
        let d = Deferred<Int>()
        d.addCallbacks(
            { value -> String in
                events.append("callback \(value)"); return "x"
            },
            { failure -> String in
                events.append("errback \(failure.errorMessage)"); return "recovered"
            }
        )
        .addCallback { events.append("then \($0)") }
        try d.errback(TestError("bad"))
        #expect(events == ["errback bad", "then recovered"])
    }

    @Test("addBoth sees successes and failures alike")
    func addBothSeesBoth() throws {
        var seen: [String] = []
        let record: (Result<Int, Failure>) -> Void = { result in
            switch result {
            case .success(let value): seen.append("success \(value)")
            case .failure(let failure): seen.append("failure \(failure.errorMessage)")
            }
        }
        succeed(3).addBoth(record)
        fail(TestError("nope"), as: Int.self).addBoth(record)
        #expect(seen == ["success 3", "failure nope"])
    }

    @Test("errback(message:) fails with a FailureMessage carrying the text")
    func errbackMessage() throws {
        let d = Deferred<Int>()
        try d.errback(message: "plain text")
        let failure = try #require(failureResult(of: d))
        #expect(failure.error(as: FailureMessage.self) == FailureMessage(message: "plain text"))
    }

    @Test("fire(with:) fires either side")
    func fireWithResult() throws {
        let good = Deferred<Int>()
        try good.fire(with: .success(1))
        #expect(successResult(of: good) == 1)
        let bad = Deferred<Int>()
        try bad.fire(with: .failure(TestError("f")))
        #expect(failureResult(of: bad)?.errorMessage == "f")
    }

    // MARK: Firing once

    @Test(
        "firing twice throws AlreadyCalledError, whatever the two sides",
        arguments: [(true, true), (true, false), (false, true), (false, false)])
    func firingTwice(first: Bool, second: Bool) throws {
        let d = Deferred<Int>()
        d.addErrback { _ in 0 }
        if first { try d.callback(1) } else { try d.errback(TestError("first")) }
        #expect(throws: AlreadyCalledError.self) {
            if second { try d.callback(2) } else { try d.errback(TestError("second")) }
        }
        #expect(successResult(of: d) == (first ? 1 : 0))
    }

    @Test("a callback firing its own Deferred again gets AlreadyCalledError")
    func callbackFiresOwnDeferred() throws {
        let d = Deferred<Int>()
        var caught: (any Error)?
        d.addCallback { value -> Int in
            do { try d.callback(99) } catch { caught = error }
            return value
        }
        try d.callback(1)
        #expect(caught is AlreadyCalledError)
        #expect(successResult(of: d) == 1)
    }

    // MARK: Re-entrancy

    @Test("a callback added by a running callback goes to the end of the chain")
    func reentrantAddCallbackAppends() throws {
        var called: [Int] = []
        let d = Deferred<Void>()
        d.addCallback { _ in
            called.append(1)
            d.addCallback { _ in called.append(3) }
        }
        d.addCallback { _ in called.append(2) }
        try d.callback()
        #expect(called == [1, 2, 3])
    }

    @Test("a callback added by a running callback waits until that callback returns")
    func reentrantAddCallbackIsNotNested() throws {
        var called: [Int] = []
        var seenInsideFirst: [Int] = []
        let d = Deferred<Void>()
        d.addCallback { _ in
            called.append(1)
            d.addCallback { _ in called.append(2) }
            seenInsideFirst = called
        }
        try d.callback()
        #expect(seenInsideFirst == [1])
        #expect(called == [1, 2])
    }

    @Test("a callback added re-entrantly that throws fails the chain")
    func reentrantCallbackFailure() throws {
        let d = Deferred<Void>()
        d.addCallback { _ -> Void in
            d.addCallback { _ in throw TestError("callback raised exception") }
        }
        try d.callback()
        #expect(failureResult(of: d)?.errorMessage == "callback raised exception")
    }

    // MARK: Pause

    @Test("pause holds callbacks until unpause; nested pauses need as many unpauses")
    func pauseAndUnpause() throws {
        var seen: [Int] = []
        let d = Deferred<Int>()
        d.pause()
        d.pause()
        try d.callback(4)
        d.addCallback { seen.append($0) }
        #expect(d.paused)
        #expect(seen.isEmpty)
        d.unpause()
        #expect(seen.isEmpty)
        d.unpause()
        #expect(!d.paused)
        #expect(seen == [4])
    }

    @Test("a paused failure reaches the errback only after unpause")
    func pausedFailure() throws {
        let d = fail(TestError("fail"), as: Int.self)
        d.pause()
        var seen: [String] = []
        d.addErrback { failure -> Int in
            seen.append(failure.errorMessage); return 0
        }
        #expect(seen.isEmpty)
        d.unpause()
        #expect(seen == ["fail"])
    }

    @Test("unpausing before the Deferred fired runs nothing until it fires")
    func unpauseBeforeCallback() throws {
        var seen: [Int] = []
        let d = Deferred<Int>()
        d.pause()
        d.addCallback { seen.append($0) }
        d.unpause()
        #expect(seen.isEmpty)
        try d.callback(1)
        #expect(seen == [1])
    }

    // MARK: Typed views

    @Test("a callback added through a stale typed view gets a DeferredTypeMismatchError failure")
    func typeMismatch() throws {
        let d = Deferred<Int>()
        _ = d.addCallback { String($0) }
        var ran = false
        let stale = d.addCallback { (value: Int) -> Int in
            ran = true; return value
        }
        try d.callback(1)
        let failure = try #require(failureResult(of: stale))
        #expect(!ran)
        let mismatch = try #require(failure.error(as: DeferredTypeMismatchError.self))
        #expect(mismatch.expected == "Int")
        #expect(mismatch.actual == "String")
    }

    @Test("every copy of a Deferred is a view of the same chain")
    func copiesShareTheChain() throws {
        let d = Deferred<Int>()
        let copy = d
        var events: [String] = []
        d.addCallback { value -> Int in
            events.append("via d \(value)"); return value * 10
        }
        copy.addCallback { value in events.append("via copy \(value)") }
        try copy.callback(2)
        #expect(events == ["via d 2", "via copy 20"])
        #expect(d.called)
    }

    @Test("description names the value type and the state")
    func description() throws {
        let d = Deferred<Int>()
        #expect(d.description == "Deferred<Int>(unfired)")
        d.pause()
        try d.callback(1)
        #expect(d.description == "Deferred<Int>(paused)")
        d.unpause()
        #expect(d.description == "Deferred<Int>(fired)")
    }

    // MARK: Constructors

    @Test("succeed and fail make fired Deferreds")
    func succeedAndFail() throws {
        #expect(successResult(of: succeed("success")) == "success")
        let voidDeferred = succeed()
        #expect(voidDeferred.called)
        let failed = fail(TestError("fail"), as: String.self)
        #expect(failed.called)
        #expect(failureResult(of: failed)?.errorMessage == "fail")
    }

    @Test("maybeDeferred wraps a returned value or a thrown error")
    func maybeDeferredSync() throws {
        #expect(successResult(of: maybeDeferred { 10 + 5 }) == 15)
        let thrown = maybeDeferred { () throws -> Int in throw TestError("that value is unacceptable") }
        #expect(failureResult(of: thrown)?.errorMessage == "that value is unacceptable")
    }

    @Test("maybeDeferred passes a returned Deferred through")
    func maybeDeferredAsync() throws {
        let inner = Deferred<String>()
        let outer = maybeDeferred { inner }
        try inner.callback("Success")
        #expect(successResult(of: outer) == "Success")
        let throwing = maybeDeferred { () throws -> Deferred<Int> in throw TestError("no deferred") }
        #expect(failureResult(of: throwing)?.errorMessage == "no deferred")
    }

    @Test("chainDeferred fires the other Deferred with this one's result; this one continues with no value")
    func chainDeferred() throws {
        let a = Deferred<Int>()
        let b = Deferred<Int>()
        let rest = b.chainDeferred(a)
        var restRan = false
        rest.addCallback { restRan = true }
        try b.callback(3)
        #expect(successResult(of: a) == 3)
        #expect(restRan)

        let c = Deferred<Int>()
        let e = Deferred<Int>()
        e.chainDeferred(c)
        try e.errback(TestError("chained failure"))
        #expect(failureResult(of: c)?.errorMessage == "chained failure")
    }

    @Test("a callback returning its own Deferred fails the chain with CircularChainError")
    func callbackReturningItsOwnDeferred() throws {
        let d = Deferred<Void>()
        d.addCallback { _ in d }
        try d.callback()
        #expect(failureResult(of: d)?.error(as: CircularChainError.self) != nil)
    }

    @Test("chainDeferred to a Deferred that already fired continues with AlreadyCalledError")
    func chainDeferredAlreadyFired() throws {
        let fired = succeed(1)
        let source = Deferred<Int>()
        let rest = source.chainDeferred(fired)
        try source.callback(2)
        #expect(failureResult(of: rest)?.error(as: AlreadyCalledError.self) != nil)
        #expect(successResult(of: fired) == 1)
    }

    @Test("callback() fires a Deferred<Void>")
    func voidCallback() throws {
        var ran = false
        let d = Deferred<Void>()
        d.addCallback { ran = true }
        try d.callback()
        #expect(ran)
    }
}
