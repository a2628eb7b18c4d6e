import Testing
import TorsionCore

/// The Deferred examples of seed 003, section 1.3 ("使用Deferreds编写异步代码"),
/// ported line by line. Where the Python prints, the port records the line
/// in `events`, and each test compares the whole list, so both the order and
/// the values of every call are checked.
///
/// Where Swift differs from the Python:
/// - An errback cannot `return fail` to keep failing: its return type is the
///   value type of the chain. It re-raises with `throw failure` instead.
/// - A failure left at the end of a chain is logged as "Unhandled error in
///   Deferred" when the Deferred is released (deterministically, at the end
///   of the scope), where Twisted logs it when the garbage collector runs.
/// - Example 3-4 fires from `callLater` on a deterministic `Clock` instead of
///   the reactor; `reactor.stop()` is recorded as "stop".
///
/// Serialized: parts of the exercise log unhandled failures with the same
/// text, and each test asserts exactly what was logged during it.
@Suite("Seed 003 Deferred examples", .serialized)
struct SeedDeferredExamplesTests {
    // MARK: Example 3-1 … 3-3 and addCallbacks

    @Test("Example 3-1: addCallback, then callback(\"ok\") prints ok")
    func example31() throws {
        var events: [String] = []
        func mycallback(_ result: String) { events.append(result) }

        let d = Deferred<String>()
        d.addCallback(mycallback)
        try d.callback("ok")
        #expect(events == ["ok"])
    }

    @Test("Example 3-2: addErrback, then errback(\"errback\") prints the failure")
    func example32() throws {
        var events: [String] = []
        func myerrback(_ failure: Failure) { events.append("\(failure)") }

        let d = Deferred<Void>()
        d.addErrback(myerrback)
        try d.errback(message: "errback")
        #expect(events == ["[Failure FailureMessage: errback]"])
    }

    @Test("Example 3-3: three callbacks, each result feeding the next, print <i><b>hello</b></i>")
    func example33() throws {
        var events: [String] = []
        func addBold(_ result: String) -> String { "<b>\(result)</b>" }
        func addItalic(_ result: String) -> String { "<i>\(result)</i>" }
        func printHTML(_ result: String) { events.append(result) }

        let d = Deferred<String>()
        d.addCallback(addBold)
            .addCallback(addItalic)
            .addCallback(printHTML)
        try d.callback("hello")
        #expect(events == ["<i><b>hello</b></i>"])
    }

    @Test("addCallbacks(mycallback, myerrback) then callback(\"come on\") runs only the callback")
    func addCallbacksSnippet() throws {
        var events: [String] = []
        func mycallback(_ result: String) { events.append("callback \(result)") }
        func myerrback(_ failure: Failure) { events.append("errback \(failure)") }

        let d = Deferred<String>()
        d.addCallbacks(mycallback, myerrback)
        try d.callback("come on")
        #expect(events == ["callback come on"])
    }

    // MARK: Example 3-4

    /// Example 3-4's `HandlineRetriever`, scheduling on a `Clock`.
    final class HeadlineRetriever {
        let clock: Clock
        var events: [String] = []
        var d = Deferred<String>()

        init(clock: Clock) { self.clock = clock }

        func processHeadline(_ headline: String) {
            events.append("process")
            if headline.count > 50 {
                try? d.errback(message: "the headline is too long")
            } else {
                try? d.callback(headline)
            }
        }

        func toHTML(_ result: String) -> String {
            events.append("html")
            return "<h1>\(result)</h1>"
        }

        func getHeadline(_ input: String) -> Deferred<String> {
            d = Deferred<String>()
            d.addCallback(toHTML)
            clock.callLater(5) { self.processHeadline(input) }
            return d
        }
    }

    /// Runs Example 3-4's main part for `input`; returns the retriever's events.
    private func runExample34(_ input: String) -> [String] {
        let clock = Clock()
        let h = HeadlineRetriever(clock: clock)
        func printData(_ result: String) {
            h.events.append("print data")
            h.events.append(result)
            h.events.append("stop")
        }
        func printError(_ failure: Failure) {
            h.events.append("\(failure)")
            h.events.append("stop")
        }
        let d = h.getHeadline(input)
        d.addCallbacks(printData, printError)
        clock.advance(4.999)
        #expect(h.events.isEmpty)
        clock.advance(0.001)
        #expect(clock.getDelayedCalls().isEmpty)
        return h.events
    }

    @Test("Example 3-4: a short headline goes through _toHTML, then printData, after 5 seconds")
    func example34ShortHeadline() {
        #expect(
            runExample34("Breaking news:Twisted") == [
                "process", "html", "print data", "<h1>Breaking news:Twisted</h1>", "stop",
            ])
    }

    @Test("Example 3-4: a headline over 50 characters skips _toHTML and reaches printError")
    func example34TooLong() {
        #expect(
            runExample34(String(repeating: "123456789", count: 6)) == [
                "process", "[Failure FailureMessage: the headline is too long]", "stop",
            ])
    }

    // MARK: The exercise

    /// Python's `Exception('…')`.
    struct SeedException: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Python's `myerr(BaseException)`, whose `__init__` prints its argument.
    struct MyErr: Error, CustomStringConvertible {
        let err: String
        init(_ err: String, print: (String) -> Void) {
            print(err)
            self.err = err
        }
        var description: String { err }
    }

    /// The exercise's callbacks and errbacks, printing into `events`.
    final class Exercise {
        var events: [String] = []

        func callback1(_ res: String) -> String {
            events.append("call 1 \(res)")
            return res
        }

        func callback2(_ res: String) -> String {
            events.append("call 2 \(res)")
            return res
        }

        func callback3(_ res: String) throws -> String {
            throw SeedException(message: "call 3")
        }

        /// `return fail` in Python: re-raise.
        func errback1(_ fail: Failure) throws -> String {
            events.append("err 1 \(fail)")
            throw fail
        }

        func errback2(_ fail: Failure) throws -> String {
            throw SeedException(message: "err 2")
        }

        func errback3(_ fail: Failure) -> String {
            events.append("err 3 \(fail)")
            return "every thing is fin now"
        }
    }

    @Test("exercise part 1: call 1, call 2, then callback3's exception is unhandled and logged")
    func exercisePart1() throws {
        let e = Exercise()
        try LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<String>()
                d.addCallback(e.callback1)
                d.addCallback(e.callback2)
                d.addCallback(e.callback3)
                try d.callback("test")
            }
            let logged = recorder.unhandledErrors(mentioning: "[Failure SeedException: call 3]")
            #expect(logged.count == 1)
        }
        #expect(e.events == ["call 1 test", "call 2 test"])
    }

    @Test("exercise part 2: errback3 handles callback3's exception and the chain ends in success")
    func exercisePart2() throws {
        let e = Exercise()
        var final: [String] = []
        try LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<String>()
                d.addCallback(e.callback1)
                d.addCallback(e.callback2)
                d.addCallback(e.callback3)
                d.addErrback(e.errback3)
                try d.callback("test")
                d.addCallback { final.append($0) }
            }
            #expect(recorder.unhandledErrors(mentioning: "call 3").isEmpty)
        }
        #expect(e.events == ["call 1 test", "call 2 test", "err 3 [Failure SeedException: call 3]"])
        #expect(final == ["every thing is fin now"])
    }

    @Test("exercise part 3: errback1 prints the failure and passes it on, so it is logged unhandled")
    func exercisePart3() throws {
        let e = Exercise()
        try LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<String>()
                d.addErrback(e.errback1)
                try d.errback(message: "test")
            }
            #expect(recorder.unhandledErrors(mentioning: "[Failure FailureMessage: test]").count == 1)
        }
        #expect(e.events == ["err 1 [Failure FailureMessage: test]"])
    }

    @Test("exercise part 4: myerr prints on construction, errback1 prints the failure, then it is logged")
    func exercisePart4() throws {
        let e = Exercise()
        try LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<String>()
                d.addErrback(e.errback1)
                try d.errback(MyErr("test", print: { e.events.append("myerr \($0)") }))
            }
            #expect(recorder.unhandledErrors(mentioning: "[Failure MyErr: test]").count == 1)
        }
        #expect(e.events == ["myerr test", "err 1 [Failure MyErr: test]"])
    }

    @Test("errback2 of the exercise replaces the failure with its own exception")
    func exerciseErrback2() throws {
        let e = Exercise()
        let d = Deferred<String>()
        d.addErrback(e.errback2)
        try d.errback(message: "test")
        #expect(failureResult(of: d)?.errorMessage == "err 2")
    }
}
