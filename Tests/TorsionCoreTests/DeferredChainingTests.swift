import Testing
import TorsionCore

/// Callbacks and errbacks that return a Deferred: the outer chain waits for
/// the inner one and continues with its result (Twisted's implicit chaining).
@Suite("Deferred chaining on returned Deferreds")
struct DeferredChainingTests {
    @Test("returning a fired Deferred continues at once with its result; the inner one keeps ()")
    func firedInner() throws {
        let inner = succeed(2)
        let outer = Deferred<Int>()
        var seen: [Int] = []
        outer.addCallback { _ in inner }.addCallback { seen.append($0) }
        try outer.callback(1)
        #expect(seen == [2])
        #expect(!outer.paused)
        // Twisted: the inner Deferred's result becomes None once taken.
        var innerAfter: [String] = []
        inner.addBoth { (result: Result<Int, Failure>) in innerAfter.append("\(result)") }
        #expect(innerAfter.count == 1)
        #expect(innerAfter[0].contains("DeferredTypeMismatchError"))
    }

    @Test("returning an unfired Deferred pauses the chain until it fires")
    func unfiredInner() throws {
        let inner = Deferred<String>()
        let outer = Deferred<Int>()
        var events: [String] = []
        outer.addCallback { value -> Deferred<String> in
            events.append("cb \(value)"); return inner
        }
        .addCallback { events.append("then \($0)") }
        try outer.callback(1)
        #expect(events == ["cb 1"])
        #expect(outer.paused)
        try inner.callback("inner value")
        #expect(events == ["cb 1", "then inner value"])
        #expect(!outer.paused)
    }

    @Test("a callback added to the outer chain while it waits runs after the inner result arrives")
    func callbackAddedWhileWaiting() throws {
        let inner = Deferred<Int>()
        let outer = Deferred<Int>()
        let waiting = outer.addCallback { _ in inner }
        try outer.callback(0)
        var seen: [Int] = []
        waiting.addCallback { seen.append($0) }
        #expect(seen.isEmpty)
        try inner.callback(42)
        #expect(seen == [42])
    }

    @Test("an inner Deferred that fails moves the outer chain to its errbacks")
    func failingInner() throws {
        let inner = Deferred<Int>()
        let outer = Deferred<Int>()
        var events: [String] = []
        outer.addCallback { _ in inner }
            .addCallback { value -> Int in
                events.append("skipped \(value)"); return value
            }
            .addErrback { failure -> Int in
                events.append("errback \(failure.errorMessage)"); return -1
            }
        try outer.callback(0)
        try inner.errback(TestError("inner failed"))
        #expect(events == ["errback inner failed"])
        // Twisted: the failure moved to the outer chain; the inner one holds None.
        var innerAfter: [Bool] = []
        inner.addBoth { (result: Result<Int, Failure>) in innerAfter.append(result.isFailureOfType(TestError.self)) }
        #expect(innerAfter == [false])
    }

    @Test("an already-failed inner Deferred hands its failure over and is not reported unhandled")
    func alreadyFailedInner() throws {
        try LogCapture.withRecorder { recorder in
            do {
                let inner = fail(TestError("chaining-already-failed-marker"), as: Int.self)
                let outer = Deferred<Void>()
                outer.addCallback { _ in inner }
                try outer.callback()
                #expect(failureResult(of: outer)?.errorMessage == "chaining-already-failed-marker")
            }
            #expect(recorder.unhandledErrors(mentioning: "chaining-already-failed-marker").isEmpty)
        }
    }

    @Test("a paused inner Deferred that has a result keeps the outer chain waiting until unpaused")
    func pausedInnerWithResult() throws {
        let paused = succeed("expected")
        paused.pause()
        let chained = Deferred<Void>()
        let waiting = chained.addCallback { _ in paused }
        try chained.callback()
        var seen: [String] = []
        waiting.addCallback { seen.append($0) }
        #expect(seen.isEmpty)
        #expect(chained.paused)
        paused.unpause()
        #expect(seen == ["expected"])
    }

    @Test("a paused inner Deferred fired later resumes the outer chain only after unpause")
    func pausedUnfiredInner() throws {
        let inner = Deferred<Int>()
        inner.pause()
        let outer = Deferred<Int>()
        var seen: [Int] = []
        outer.addCallback { _ in inner }.addCallback { seen.append($0) }
        try outer.callback(1)
        try inner.callback(2)
        #expect(seen.isEmpty)
        inner.unpause()
        #expect(seen == [2])
    }

    @Test("a paused outer Deferred does not stop the inner one from running its later callbacks")
    func pausedOuterDoesNotBlockInner() throws {
        let first = Deferred<Void>()
        let second = Deferred<Void>()
        first.addCallback { _ in second }
        try first.callback()
        first.pause()
        try second.callback()
        var seen = 0
        second.addCallback { seen += 1 }
        #expect(seen == 1)
        var firstSeen = 0
        first.addCallback { firstSeen += 1 }
        #expect(firstSeen == 0)
        first.unpause()
        #expect(firstSeen == 1)
    }

    @Test("an errback may return a Deferred to wait for")
    func errbackReturnsDeferred() throws {
        let d = Deferred<String>()
        let recovery = Deferred<String>()
        var seen: [String] = []
        d.addErrback { _ in recovery }.addCallback { seen.append($0) }
        try d.errback(TestError("x"))
        #expect(seen.isEmpty)
        try recovery.callback("result")
        #expect(seen == ["result"])
    }

    @Test("addBoth and addCallbacks may return Deferreds to wait for")
    func bothAndCallbacksReturnDeferreds() throws {
        let innerBoth = Deferred<String>()
        let innerErr = Deferred<String>()
        var seen: [String] = []
        let a = Deferred<Int>()
        a.addBoth { (_: Result<Int, Failure>) in innerBoth }.addCallback { seen.append("both \($0)") }
        let b = Deferred<Int>()
        b.addCallbacks({ _ in succeed("unused") }, { _ in innerErr }).addCallback { seen.append("callbacks \($0)") }
        try a.callback(1)
        try b.errback(TestError("e"))
        #expect(seen.isEmpty)
        try innerBoth.callback("x")
        try innerErr.callback("y")
        #expect(seen == ["both x", "callbacks y"])
    }

    @Test("chaining is transitive: C fires, B resumes, A resumes")
    func transitiveChaining() throws {
        let first = Deferred<String>()
        let second = Deferred<Void>()
        let third = Deferred<Void>()
        let secondResult = second.addCallback { _ in first }
        let thirdResult = third.addCallback { _ in secondResult }
        var seen: [String] = []
        thirdResult.addCallback { seen.append($0) }
        try second.callback()
        try third.callback()
        #expect(seen.isEmpty)
        try first.callback("result")
        #expect(seen == ["result"])
    }

    @Test("callbacks added to the middle Deferred after chaining run once the last fires, with ()")
    func middleCallbacksAfterChain() throws {
        let first = Deferred<Void>()
        let second = Deferred<Void>()
        let third = Deferred<Void>()
        first.addCallback { _ in second }
        second.addCallback { _ in third }
        try second.callback()
        try first.callback()
        try third.callback()
        var results = 0
        second.addCallback { results += 1 }
        #expect(results == 1)
    }

    @Test("an inner chain waiting on a third Deferred runs its own callbacks before the outer one resumes")
    func nestedAsynchronousChains() throws {
        var results: [String] = []
        let inner = Deferred<String>()
        let outer = succeed("outer")
            .addCallback { result -> Deferred<String> in
                results.append("start-of-cb \(result)")
                return succeed("inner")
                    .addCallback { result -> Deferred<[String]> in
                        results.append("firstCallback \(result)")
                        return inner.addCallback { [$0] }
                    }
                    .addCallback { result -> String in
                        results.append("secondCallback \(result)")
                        return (result + result).joined(separator: ",")
                    }
            }
        outer.addCallback { results.append($0) }
        #expect(results == ["start-of-cb outer", "firstCallback inner"])
        try inner.callback("withers")
        #expect(
            results == [
                "start-of-cb outer", "firstCallback inner",
                "secondCallback [\"withers\"]", "withers,withers",
            ])
    }
}

extension Result where Failure == TorsionCore.Failure {
    /// `true` when this is a failure wrapping an error of type `type`.
    func isFailureOfType<E: Error>(_ type: E.Type) -> Bool {
        if case .failure(let failure) = self { return failure.error is E }
        return false
    }
}
