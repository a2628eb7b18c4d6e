import Logging
import Synchronization
import Testing
import TorsionCore

// Shared helpers of the Deferred tests: reading a Deferred's current result
// the way Twisted's `successResultOf` / `failureResultOf` do, and capturing
// what `DeferredDiagnostics` logs.

/// An error carrying a message, like Python's `Exception("…")`.
struct TestError: Error, CustomStringConvertible, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// The result `deferred` holds right now, or `nil` if it has none yet (unfired,
/// paused or waiting). Passes the result on unchanged, so a failure stays in
/// the chain.
func currentResult<Value>(of deferred: Deferred<Value>) -> Result<Value, Failure>? {
    var seen: Result<Value, Failure>?
    deferred.addBoth { (result: Result<Value, Failure>) throws -> Value in
        seen = result
        return try result.get()
    }
    return seen
}

/// The success value `deferred` holds right now, or `nil`.
func successResult<Value>(of deferred: Deferred<Value>) -> Value? {
    guard case .success(let value) = currentResult(of: deferred) else { return nil }
    return value
}

/// The failure `deferred` holds right now, or `nil`. Consumes the failure, so
/// it is not reported as unhandled; the chain continues with `()` (Twisted's
/// `None`), so use this as the last step on a Deferred.
func failureResult<Value>(of deferred: Deferred<Value>) -> Failure? {
    var seen: Failure?
    deferred.addBoth { (result: Result<Value, Failure>) -> Void in
        if case .failure(let failure) = result { seen = failure }
    }
    return seen
}

/// `true` if `deferred` holds a CancelledError failure right now; consumes it
/// like ``failureResult(of:)``.
func isCancelled<Value>(_ deferred: Deferred<Value>) -> Bool {
    failureResult(of: deferred)?.check(CancelledError.self) != nil
}

/// `true` if `deferred` has no result right now.
func hasNoResult<Value>(_ deferred: Deferred<Value>) -> Bool {
    currentResult(of: deferred) == nil
}

// MARK: - Capturing logs

/// One log record.
struct LogRecord: Sendable {
    let level: Logger.Level
    let message: String
    let metadata: [String: String]
}

/// Collects the records of every `RecordingLogHandler` made from it. Any thread.
final class LogRecorder: Sendable {
    private let records = Mutex<[LogRecord]>([])

    func append(_ record: LogRecord) { records.withLock { $0.append(record) } }

    /// The unhandled-error records whose text mentions `marker`.
    func unhandledErrors(mentioning marker: String) -> [LogRecord] {
        records.withLock { records in
            records.filter {
                $0.message.contains(DeferredDiagnostics.unhandledErrorMessage) && $0.message.contains(marker)
            }
        }
    }
}

/// A LogHandler that hands every record to a `LogRecorder`.
struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            flat[key] = "\(value)"
        }
        recorder.append(LogRecord(level: event.level, message: "\(event.message)", metadata: flat))
    }
}

/// Installs one shared recording logger into `DeferredDiagnostics` for as
/// long as at least one test needs it, and restores the previous logger when
/// the last one is done. Tests run in parallel, so each test matches its own
/// unique error message rather than counting every record.
enum LogCapture {
    private struct State {
        var users = 0
        var saved: Logger?
        var recorder: LogRecorder?
    }
    private static let state = Mutex(State())

    static func withRecorder<T>(_ body: (LogRecorder) throws -> T) rethrows -> T {
        let recorder = state.withLock { state -> LogRecorder in
            if state.users == 0 {
                let recorder = LogRecorder()
                state.saved = DeferredDiagnostics.logger
                state.recorder = recorder
                DeferredDiagnostics.logger = Logger(label: "torsion.deferred.tests") { _ in
                    RecordingLogHandler(recorder: recorder)
                }
            }
            state.users += 1
            return state.recorder!
        }
        defer {
            state.withLock { state in
                state.users -= 1
                if state.users == 0, let saved = state.saved {
                    DeferredDiagnostics.logger = saved
                    state.saved = nil
                    state.recorder = nil
                }
            }
        }
        return try body(recorder)
    }
}

@Suite("Deferred test helpers")
struct DeferredSupportTests {
    @Test("the recorder sees an unhandled failure and the logger is restored afterwards")
    func recorderRestoresLogger() {
        LogCapture.withRecorder { recorder in
            do {
                let deferred = Deferred<Int>()
                try? deferred.errback(TestError("support-recorder-marker"))
            }
            #expect(recorder.unhandledErrors(mentioning: "support-recorder-marker").count == 1)
        }
        // Tests run in parallel: another test may hold the capture right now
        // (before or after this one), so the logger is either the capture's or
        // the original one, never anything else.
        let after = DeferredDiagnostics.logger.label
        #expect(after == "torsion.deferred" || after == "torsion.deferred.tests")
    }
}
