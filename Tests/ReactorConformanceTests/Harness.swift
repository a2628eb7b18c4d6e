// TestPipe, RecordingDescriptor and ReactorOwned, for every file of this target.
@_exported import ReactorTestSupport
import Testing
import TorsionCore

@testable import TorsionPosix

// The conformance harness: Twisted's ReactorBuilder for Swift Testing.
// Every behaviour test takes a `Backend` argument (`@Test(arguments:
// Backend.available)`) and runs its body through `withReactor`, which gives
// it a fresh reactor on that backend, a watchdog, and a leak check
// afterwards. Tests run in parallel in one process, so the checks are per
// reactor (its registrations, timers, descriptors) — never a count of the
// process's open descriptors.

/// How long a conformance test may keep a reactor busy before the watchdog
/// fails it. Generous on purpose: the watchdog only fires on a hang, so it
/// never turns a slow machine into a flaky test.
let watchdogLimit: Double = 20

/// Runs `body` with a new reactor on `backend` and checks the reactor is
/// clean afterwards.
///
/// - A watchdog timer (``watchdogLimit`` seconds) records an issue and
///   crashes the reactor if the body's `run()` is still going by then, so a
///   broken behaviour fails its test instead of hanging the suite.
/// - When the body stops the reactor, the state is checked in the first
///   `before shutdown` trigger — before shutdown closes whatever is left —
///   so a transport or port the test forgot to close is reported, not
///   silently cleaned up. Tests that rely on shutdown to close something
///   pass `leavesWorkForShutdown: true`.
/// - After the body the reactor must hold no delayed calls, no readers or
///   writers, no engine registrations, no descriptors of its own, no live
///   stream connections, and (once not running) no pool threads.
func withReactor(
    _ backend: Backend,
    threadPool: ClosedRange<Int> = 0...10,
    handlesSignals: Bool = false,
    leavesWorkForShutdown: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Reactor) throws -> Void
) throws {
    let reactor = try Reactor(backend: backend, threadPool: threadPool, handlesSignals: handlesSignals)
    let watchdog = reactor.callLater(watchdogLimit) { [unowned reactor] in
        Issue.record("watchdog: the reactor was still busy after \(watchdogLimit) s", sourceLocation: sourceLocation)
        reactor.crash()
    }
    if !leavesWorkForShutdown {
        reactor.addSystemEventTrigger(.before, .shutdown) { [unowned reactor] in
            expectClean(reactor, ignoring: watchdog, when: "when shutdown began", sourceLocation: sourceLocation)
            return nil
        }
    }
    try body(reactor)
    if watchdog.isActive { try watchdog.cancel() }
    expectClean(reactor, when: "after the test", sourceLocation: sourceLocation)
}

/// Checks that `reactor` holds nothing but `watchdog`: no delayed calls,
/// no readers or writers, no engine registrations beyond the signal
/// watcher's, no descriptors it owns, no live stream connections; and no
/// pool threads once it has stopped running.
func expectClean(
    _ reactor: Reactor, ignoring watchdog: DelayedCall? = nil, when moment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let calls = reactor.getDelayedCalls().filter { $0 !== watchdog }
    #expect(calls.isEmpty, "delayed calls left \(moment): \(calls)", sourceLocation: sourceLocation)
    #expect(reactor.getReaders().isEmpty, "readers left \(moment)", sourceLocation: sourceLocation)
    #expect(reactor.getWriters().isEmpty, "writers left \(moment)", sourceLocation: sourceLocation)
    let signalRegistrations = reactor.signalWatcher == nil ? 0 : 1
    #expect(
        reactor.engine.watchedCount == signalRegistrations, "engine registrations left \(moment)",
        sourceLocation: sourceLocation)
    #expect(
        reactor.ownedDescriptorCount == 0, "\(reactor.ownedDescriptorCount) descriptors of the reactor open \(moment)",
        sourceLocation: sourceLocation)
    #expect(
        reactor.liveConnectionCount == 0, "\(reactor.liveConnectionCount) stream connections still live \(moment)",
        sourceLocation: sourceLocation)
    if !reactor.running {
        #expect(reactor.threadPool.threadCount == 0, "pool threads left \(moment)", sourceLocation: sourceLocation)
    }
}

/// Expects the object behind `reference` to be gone: nothing (the reactor,
/// a transport, a closure) kept it alive after its connection ended.
func expectReleased(
    _ reference: AnyObject?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reference == nil, "\(what) is still referenced", sourceLocation: sourceLocation)
}
