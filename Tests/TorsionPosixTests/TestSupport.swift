// TestPipe, RecordingDescriptor, ReactorOwned and runWithWatchdog, shared
// with the conformance suite, for every file of this target.
@_exported import ReactorTestSupport
import Testing
import TorsionCore

@testable import TorsionPosix

/// A watchdog for tests that turn the loop with `iterate`: a timer that
/// records a failure if it ever runs. Cancel it with ``cancelWatchdog(_:)``.
func armWatchdog(
    _ reactor: Reactor, limit: Double = 10, sourceLocation: SourceLocation = #_sourceLocation
) -> DelayedCall {
    reactor.callLater(limit) {
        Issue.record("watchdog: the test was still turning the loop after \(limit) s", sourceLocation: sourceLocation)
    }
}

/// Cancels a watchdog from ``armWatchdog(_:limit:sourceLocation:)``,
/// which must not have fired.
func cancelWatchdog(_ watchdog: DelayedCall, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(watchdog.isActive, "the watchdog fired", sourceLocation: sourceLocation)
    if watchdog.isActive { try watchdog.cancel() }
}

/// Checks that the reactor holds nothing after a test: no delayed calls,
/// no watched descriptors (in the FDSet maps and in the engine), no thread
/// pool threads once it has shut down.
func expectNoLeaks(_ reactor: Reactor, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reactor.getDelayedCalls().isEmpty, "delayed calls left", sourceLocation: sourceLocation)
    #expect(reactor.getReaders().isEmpty, "readers left", sourceLocation: sourceLocation)
    #expect(reactor.getWriters().isEmpty, "writers left", sourceLocation: sourceLocation)
    #expect(reactor.engine.watchedCount == 0, "engine registrations left", sourceLocation: sourceLocation)
    if !reactor.running {
        #expect(reactor.threadPool.threadCount == 0, "pool threads left", sourceLocation: sourceLocation)
    }
}
