import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Runs `reactor` until it stops, under a watchdog: if it is still running
/// after `limit` seconds the watchdog records a failure and crashes it, so
/// a broken behaviour fails the test instead of hanging the suite. The
/// watchdog is cancelled afterwards so it does not count as a leak.
func runWithWatchdog(
    _ reactor: Reactor, limit: Double = 10, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let watchdog = reactor.callLater(limit) {
        Issue.record("watchdog: the reactor was still running after \(limit) s", sourceLocation: sourceLocation)
        reactor.crash()
    }
    try reactor.run()
    if watchdog.isActive { try watchdog.cancel() }
}

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

/// A nonblocking, close-on-exec pipe owned by a test; ``close()`` closes
/// both ends, and the test checks it did.
final class TestPipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { throw SystemError(call: "pipe") }
        readEnd = fds[0]
        writeEnd = fds[1]
        try Descriptors.setNonBlocking(readEnd)
        try Descriptors.setNonBlocking(writeEnd)
    }

    /// Writes `count` bytes so the read end becomes readable.
    func fill(_ count: Int = 1) {
        let bytes = [UInt8](repeating: 0x61, count: count)
        _ = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress, count) }
    }

    func close() {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }
}

/// A reader or writer that records what the reactor tells it.
final class RecordingDescriptor: ReadDescriptor, WriteDescriptor {
    let fileDescriptor: Int32
    var reads = 0
    var writes = 0
    var lost: [Failure] = []
    var onRead: () -> Failure? = { nil }
    var onWrite: () -> Failure? = { nil }

    init(_ fd: Int32) { fileDescriptor = fd }

    func doRead() -> Failure? {
        reads += 1
        return onRead()
    }

    func doWrite() -> Failure? {
        writes += 1
        return onWrite()
    }

    func connectionLost(reason: Failure) { lost.append(reason) }

    /// Reads and discards whatever is buffered in a nonblocking fd.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fileDescriptor, $0.baseAddress, 4096) }) > 0 {}
    }
}

/// Holds a value shared with functions queued from other threads; the
/// functions only run on the reactor thread, which owns the value.
final class ReactorOwned<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
