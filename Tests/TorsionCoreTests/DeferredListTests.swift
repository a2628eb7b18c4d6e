import Testing
import TorsionCore

/// `DeferredList`, `Deferred(firstSuccessOf:)` and `gatherResults`
/// (Twisted's DeferredList tests in test_defer.py).
@Suite("DeferredList and gatherResults")
struct DeferredListTests {
    /// A canceller that succeeds, like Twisted's `fakeCallbackCanceller`.
    static func callbackCanceller(_ d: Deferred<String>) { try? d.callback("Callback Result") }

    /// A readable form of a list result.
    static func describe<V>(_ results: [Result<V, Failure>]) -> [String] {
        results.map { result in
            switch result {
            case .success(let value): return "success \(value)"
            case .failure(let failure): return "failure \(failure.errorMessage)"
            }
        }
    }

    // MARK: DeferredList

    @Test("fires once every Deferred fired, with their results in list order")
    func allResults() throws {
        let d1 = Deferred<String>(), d2 = Deferred<String>(), d3 = Deferred<String>()
        let list = DeferredList([d1, d2, d3])
        var result: [String]?
        list.addCallback { result = Self.describe($0) }
        try d1.callback("1")
        d2.addErrback { _ in "caught" }
        try d3.callback("3")
        #expect(result == nil)
        try d2.errback(TestError("2"))
        #expect(result == ["success 1", "failure 2", "success 3"])
    }

    @Test("an empty DeferredList fires at once with []")
    func emptyList() throws {
        let list = DeferredList([Deferred<Int>]())
        #expect(successResult(of: list)?.isEmpty == true)
    }

    @Test("fireOnOneErrback fails with FirstError at the first failure, without waiting")
    func fireOnOneErrback() throws {
        let d1 = Deferred<String>(), d2 = Deferred<String>(), d3 = Deferred<String>()
        let list = DeferredList([d1, d2, d3], fireOnOneErrback: true)
        d2.addErrback { _ in "caught" }
        try d1.callback("1")
        #expect(hasNoResult(list))
        try d2.errback(TestError("from def2"))
        let failure = try #require(failureResult(of: list))
        let first = try #require(failure.error(as: FirstError.self))
        #expect(first.index == 1)
        #expect(first.failure.error(as: TestError.self) == TestError("from def2"))
        try d3.errback(TestError("ignored"))
        #expect(failureResult(of: d3)?.errorMessage == "ignored")
    }

    @Test("without consumeErrors a failure continues down its Deferred after the list saw it")
    func dontConsumeErrors() throws {
        let d1 = Deferred<Void>()
        let list = DeferredList([d1])
        var trapped: [String] = []
        d1.addErrback { trapped.append($0.errorMessage) }
        var lists: [[String]] = []
        list.addCallback { lists.append(Self.describe($0)) }
        try d1.errback(TestError("Bang"))
        #expect(trapped == ["Bang"])
        #expect(lists == [["failure Bang"]])
    }

    @Test("consumeErrors stops the failure: later errbacks do not run and nothing is logged")
    func consumeErrors() throws {
        try LogCapture.withRecorder { recorder in
            var trapped: [String] = []
            var lists: [[String]] = []
            do {
                let d1 = Deferred<Void>()
                let list = DeferredList([d1], consumeErrors: true)
                list.addCallback { lists.append(Self.describe($0)) }
                try d1.errback(TestError("list-consume-marker"))
                d1.addErrback { trapped.append($0.errorMessage) }
                #expect(successResult(of: d1) != nil)
            }
            #expect(trapped.isEmpty)
            #expect(lists == [["failure list-consume-marker"]])
            #expect(recorder.unhandledErrors(mentioning: "list-consume-marker").isEmpty)
        }
    }

    @Test("already-fired Deferreds are taken into account at once")
    func alreadyFired() throws {
        let d1 = fail(TestError("Bang"), as: Int.self)
        let d2 = succeed(2)
        let list = DeferredList([d1, d2])
        #expect(successResult(of: list).map(Self.describe) == ["failure Bang", "success 2"])
        d1.addErrback { _ in 0 }

        let d3 = fail(TestError("Bang"), as: Int.self)
        let d4 = Deferred<Int>()
        let failing = DeferredList([d3, d4], fireOnOneErrback: true)
        #expect(failureResult(of: failing)?.error(as: FirstError.self)?.index == 0)
        d3.addErrback { _ in 0 }
    }

    @Test("a Deferred holding a value of the wrong type counts as a failure")
    func typeMismatchMember() throws {
        let d = Deferred<Int>()
        _ = d.addCallback { _ in "not an Int" }
        let list = DeferredList([d], consumeErrors: true)
        try d.callback(1)
        let results = try #require(successResult(of: list))
        #expect(results.count == 1)
        #expect(results[0].isFailureOfType(DeferredTypeMismatchError.self))
    }

    @Test("cancelling an unfired DeferredList cancels every Deferred; it then fires with their failures")
    func cancelList() throws {
        let one = Deferred<Int>(), two = Deferred<Int>()
        let list = DeferredList([one, two])
        list.cancel()
        #expect(isCancelled(one))
        #expect(isCancelled(two))
        let results = try #require(successResult(of: list))
        #expect(results.allSatisfy { $0.isFailureOfType(CancelledError.self) })
    }

    @Test("cancelling a DeferredList whose Deferred succeeds on cancel gives that success in the list")
    func cancelListWithCallbackCanceller() throws {
        let one = Deferred<String>(canceller: Self.callbackCanceller)
        let two = Deferred<String>()
        let list = DeferredList([one, two])
        list.cancel()
        #expect(
            successResult(of: list).map(Self.describe) == [
                "success Callback Result", "failure CancelledError: the Deferred was cancelled",
            ])
        #expect(isCancelled(two))
    }

    @Test("cancelling a fireOnOneErrback DeferredList fails it with FirstError wrapping CancelledError")
    func cancelFireOnOneErrback() throws {
        let one = Deferred<Int>(), two = Deferred<Int>()
        let list = DeferredList([one, two], fireOnOneErrback: true)
        list.cancel()
        let first = try #require(failureResult(of: list)?.error(as: FirstError.self))
        #expect(first.index == 0)
        #expect(first.failure.check(CancelledError.self) != nil)
        #expect(isCancelled(two))
        _ = failureResult(of: one)
    }

    @Test("cancelling a fireOnOneErrback DeferredList whose Deferreds all succeed on cancel gives the list")
    func cancelFireOnOneErrbackAllCallback() throws {
        let one = Deferred<String>(canceller: Self.callbackCanceller)
        let two = Deferred<String>(canceller: Self.callbackCanceller)
        let list = DeferredList([one, two], fireOnOneErrback: true)
        list.cancel()
        #expect(successResult(of: list).map(Self.describe) == ["success Callback Result", "success Callback Result"])
    }

    @Test("cancelling a DeferredList that fired on one errback leaves the other Deferreds alone")
    func cancelFiredList() throws {
        let one = Deferred<Int>(), two = Deferred<Int>()
        let list = DeferredList([one, two], fireOnOneErrback: true)
        try one.errback(TestError("test"))
        list.cancel()
        #expect(hasNoResult(two))
        #expect(failureResult(of: one)?.errorMessage == "test")
        #expect(failureResult(of: list)?.error(as: FirstError.self) != nil)
    }

    @Test("a DeferredList nobody holds stays alive until its Deferreds fire, then is released")
    func fireAndForget() throws {
        let d = Deferred<Int>()
        weak var weakBox: Box?
        var seen: [[String]] = []
        do {
            let box = Box()
            weakBox = box
            DeferredList([d]).addCallback { results in
                _ = box; seen.append(Self.describe(results))
            }
        }
        #expect(weakBox != nil)
        try d.callback(5)
        #expect(seen == [["success 5"]])
        #expect(weakBox == nil)
    }

    // MARK: firstSuccessOf (fireOnOneCallback)

    @Test("firstSuccessOf fires with the first success and its index; the others keep running")
    func firstSuccess() throws {
        var cancelled = 0
        let one = Deferred<String>(canceller: { _ in cancelled += 1 })
        let two = Deferred<String>(canceller: { _ in cancelled += 1 })
        let first = Deferred(firstSuccessOf: [one, two])
        try one.errback(TestError("no"))
        #expect(hasNoResult(first))
        try two.callback("yes")
        guard case .succeeded(let value, let index) = successResult(of: first) else {
            Issue.record("expected a success")
            return
        }
        #expect(value == "yes")
        #expect(index == 1)
        #expect(cancelled == 0)
        _ = failureResult(of: one)
    }

    @Test("firstSuccessOf with no success fires with every failure in list order")
    func firstSuccessAllFailed() throws {
        let one = Deferred<Int>(), two = Deferred<Int>()
        let first = Deferred(firstSuccessOf: [one, two], consumeErrors: true)
        try two.errback(TestError("second"))
        try one.errback(TestError("first"))
        guard case .allFailed(let failures) = successResult(of: first) else {
            Issue.record("expected allFailed")
            return
        }
        #expect(failures.map(\.errorMessage) == ["first", "second"])
    }

    @Test("firstSuccessOf with fireOnOneErrback fails with FirstError at the first failure")
    func firstSuccessFireOnOneErrback() throws {
        let one = Deferred<Int>(), two = Deferred<Int>()
        let first = Deferred(firstSuccessOf: [one, two], fireOnOneErrback: true, consumeErrors: true)
        try two.errback(TestError("second"))
        #expect(failureResult(of: first)?.error(as: FirstError.self)?.index == 1)
        try one.callback(1)
    }

    @Test("firstSuccessOf an empty list never fires until cancelled")
    func firstSuccessEmpty() throws {
        let first = Deferred(firstSuccessOf: [Deferred<Int>]())
        #expect(hasNoResult(first))
        first.cancel()
        #expect(isCancelled(first))
    }

    @Test("cancelling firstSuccessOf cancels the Deferreds; one succeeding on cancel wins")
    func cancelFirstSuccess() throws {
        let one = Deferred<String>(canceller: Self.callbackCanceller)
        let two = Deferred<String>()
        let first = Deferred(firstSuccessOf: [one, two])
        first.cancel()
        guard case .succeeded(let value, let index) = successResult(of: first) else {
            Issue.record("expected a success")
            return
        }
        #expect(value == "Callback Result")
        #expect(index == 0)
        #expect(isCancelled(two))
    }

    @Test("cancelling firstSuccessOf after it fired leaves the other Deferreds alone")
    func cancelFiredFirstSuccess() throws {
        let one = Deferred<Void>(), two = Deferred<Void>()
        let first = Deferred(firstSuccessOf: [one, two])
        try one.callback()
        first.cancel()
        #expect(hasNoResult(two))
    }

    // MARK: gatherResults

    @Test("gatherResults gives the values in order")
    func gather() throws {
        #expect(successResult(of: gatherResults([succeed(1), succeed(2)])) == [1, 2])
        #expect(successResult(of: gatherResults([Deferred<Int>]())) == [])
    }

    @Test("gatherResults fails with FirstError; the failure also continues down its Deferred")
    func gatherFailure() throws {
        let bad = fail(TestError("bad"), as: Int.self)
        let gathered = gatherResults([succeed(1), bad])
        let first = try #require(failureResult(of: gathered)?.error(as: FirstError.self))
        #expect(first.index == 1)
        #expect(failureResult(of: bad)?.errorMessage == "bad")
    }

    @Test("gatherResults with consumeErrors keeps the failure from later errbacks")
    func gatherConsumeErrors() throws {
        let bad = fail(TestError("oh noes"), as: Void.self)
        let gathered = gatherResults([succeed(()), bad], consumeErrors: true)
        var unconsumed: [Failure] = []
        bad.addErrback { unconsumed.append($0) }
        let first = try #require(failureResult(of: gathered)?.error(as: FirstError.self))
        #expect(unconsumed.isEmpty)
        #expect(first.failure.error(as: TestError.self) == TestError("oh noes"))
    }

    @Test("cancelling gatherResults cancels every Deferred and fails with FirstError(CancelledError)")
    func cancelGather() throws {
        let one = Deferred<Int>(), two = Deferred<Int>()
        let gathered = gatherResults([one, two])
        gathered.cancel()
        #expect(isCancelled(one))
        #expect(isCancelled(two))
        let first = try #require(failureResult(of: gathered)?.error(as: FirstError.self))
        #expect(first.failure.check(CancelledError.self) != nil)
    }

    @Test("cancelling gatherResults whose Deferreds all succeed on cancel gives their values")
    func cancelGatherAllCallback() throws {
        let one = Deferred<String>(canceller: Self.callbackCanceller)
        let two = Deferred<String>(canceller: Self.callbackCanceller)
        let gathered = gatherResults([one, two])
        gathered.cancel()
        #expect(successResult(of: gathered) == ["Callback Result", "Callback Result"])
    }

    @Test("a callback added after the continuation runs after the inner Deferred's own callbacks")
    func callbackOrderPreserved() throws {
        var results: [String] = []
        let a = Deferred<String>()
        let outer = Deferred<String>()
        let waiting = outer.addCallback { result -> Deferred<Void> in
            results.append("cb \(result)")
            let d = Deferred<Void>()
            let returner = d.addCallback { _ -> Deferred<[String]> in
                results.append("firstCallback")
                return gatherResults([a])
            }.addCallback { results.append("secondCallback \($0)") }
            try d.callback()
            return returner
        }
        waiting.addCallback { results.append("final") }
        try outer.callback("outer")
        #expect(results == ["cb outer", "firstCallback"])
        try a.callback("withers")
        #expect(results == ["cb outer", "firstCallback", "secondCallback [\"withers\"]", "final"])
    }
}
