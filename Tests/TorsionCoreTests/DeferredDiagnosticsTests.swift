import Testing
import TorsionCore

/// "Unhandled error in Deferred": a failure still in a chain when the chain
/// is released is logged once through `DeferredDiagnostics.logger`, and
/// nothing is logged for a failure that was handled or handed on. Each test
/// uses its own marker text because other tests may log at the same time.
@Suite("Deferred unhandled-error diagnostics")
struct DeferredDiagnosticsTests {
    @Test("a failure left in a released chain is logged once, at error level, with the failure")
    func unhandledFailureLogged() throws {
        LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<Int>()
                d.addCallback { _ -> Int in throw TestError("diag-unhandled-marker") }
                try? d.callback(1)
                #expect(recorder.unhandledErrors(mentioning: "diag-unhandled-marker").isEmpty)
            }
            let records = recorder.unhandledErrors(mentioning: "diag-unhandled-marker")
            #expect(records.count == 1)
            #expect(records.first?.level == .error)
            #expect(records.first?.message.hasPrefix("Unhandled error in Deferred") == true)
            #expect(records.first?.metadata["failure"] == "[Failure TestError: diag-unhandled-marker]")
        }
    }

    @Test("a handled failure is not logged")
    func handledFailureNotLogged() throws {
        LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<Int>()
                d.addCallback { _ -> Int in throw TestError("diag-handled-marker") }
                    .addErrback { _ in 0 }
                try? d.callback(1)
            }
            #expect(recorder.unhandledErrors(mentioning: "diag-handled-marker").isEmpty)
        }
    }

    @Test("an unfired Deferred or a success is not logged")
    func noFailureNotLogged() throws {
        LogCapture.withRecorder { recorder in
            do {
                let unfired = Deferred<String>()
                _ = unfired.addCallback { $0 + "diag-unfired-marker" }
                let fired = succeed("diag-success-marker")
                _ = fired.called
            }
            #expect(recorder.unhandledErrors(mentioning: "diag-unfired-marker").isEmpty)
            #expect(recorder.unhandledErrors(mentioning: "diag-success-marker").isEmpty)
        }
    }

    @Test("a failure taken over by an outer chain is logged once, by the outer chain only")
    func failureHandedOnLoggedOnce() throws {
        LogCapture.withRecorder { recorder in
            do {
                let inner = Deferred<Int>()
                let outer = Deferred<Void>()
                outer.addCallback { _ in inner }
                try? outer.callback()
                try? inner.errback(TestError("diag-handed-on-marker"))
            }
            #expect(recorder.unhandledErrors(mentioning: "diag-handed-on-marker").count == 1)
        }
    }

    @Test("a failure whose errback chained it to another Deferred is not logged")
    func errorClearedByChaining() throws {
        LogCapture.withRecorder { recorder in
            do {
                let bad = fail(TestError("diag-cleared-marker"), as: Int.self)
                let good = Deferred<Int>()
                bad.addErrback { _ in good }
            }
            #expect(recorder.unhandledErrors(mentioning: "diag-cleared-marker").isEmpty)
        }
    }

    @Test("a type mismatch nobody handles is logged like any other failure")
    func typeMismatchLogged() throws {
        LogCapture.withRecorder { recorder in
            do {
                let d = Deferred<Int>()
                _ = d.addCallback { _ in DiagnosticsMismatchMarker() }
                d.addCallback { (_: Int) in }
                try? d.callback(1)
            }
            let records = recorder.unhandledErrors(mentioning: "DiagnosticsMismatchMarker")
            #expect(records.count == 1)
            #expect(
                records.first?.message.contains("expects Int but the chain holds DiagnosticsMismatchMarker") == true)
        }
    }
}

/// A type no other test puts in a chain, so its mismatch message is unique.
private struct DiagnosticsMismatchMarker {}
