import Glibc
import Testing
import TorsionCore
import TorsionPosix

// Helpers shared by the test targets that drive a real reactor
// (TorsionPosixTests, ReactorConformanceTests and SeedExamplesTests). Test
// code only.

/// A nonblocking, close-on-exec pipe owned by a test; ``close()`` closes
/// both ends.
public final class TestPipe {
    /// The end to read from (or to watch for readability).
    public let readEnd: Int32
    /// The end to write to (or to watch for writability).
    public let writeEnd: Int32

    /// Opens the pipe.
    ///
    /// - Throws: ``SystemError`` when the process is out of descriptors.
    public init() throws {
        var fds: [Int32] = [-1, -1]
        // pipe2 needs _GNU_SOURCE, which the Glibc module does not define.
        if pipe(&fds) != 0 { throw SystemError(call: "pipe") }
        readEnd = fds[0]
        writeEnd = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    /// Writes `count` bytes so the read end becomes readable.
    public func fill(_ count: Int = 1) {
        let bytes = [UInt8](repeating: 0x61, count: count)
        _ = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress, count) }
    }

    /// Closes both ends.
    public func close() {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }
}

/// A reader or writer that records what the reactor tells it; the `on…`
/// hooks decide what each event returns.
public final class RecordingDescriptor: ReadDescriptor, WriteDescriptor {
    /// The descriptor watched.
    public let fileDescriptor: Int32
    /// How often `doRead` ran.
    public var reads = 0
    /// How often `doWrite` ran.
    public var writes = 0
    /// The reasons given to `connectionLost`, in order.
    public var lost: [Failure] = []
    /// What `doRead` returns (nil: keep watching).
    public var onRead: () -> Failure? = { nil }
    /// What `doWrite` returns (nil: keep watching).
    public var onWrite: () -> Failure? = { nil }

    /// Records events for `fd`, which the test owns and closes.
    public init(_ fd: Int32) { fileDescriptor = fd }

    /// Counts the read and runs ``onRead``.
    public func doRead() -> Failure? {
        reads += 1
        return onRead()
    }

    /// Counts the write and runs ``onWrite``.
    public func doWrite() -> Failure? {
        writes += 1
        return onWrite()
    }

    /// Records the reason.
    public func connectionLost(reason: Failure) { lost.append(reason) }

    /// Reads and discards whatever is buffered in the (nonblocking) descriptor.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fileDescriptor, $0.baseAddress, 4096) }) > 0 {}
    }
}

/// Holds a value shared with functions queued from other threads; the
/// functions only run on the reactor thread, which owns the value.
public final class ReactorOwned<Value>: @unchecked Sendable {
    // SAFETY: only the reactor thread reads or writes `value` (the test
    // hands the box to other threads solely to pass it back through
    // callFromThread).
    /// The value, reactor thread only.
    public var value: Value
    /// Boxes `value`.
    public init(_ value: Value) { self.value = value }
}

/// Runs `reactor` until it stops, under a watchdog: if it is still running
/// after `limit` seconds the watchdog records a failure and crashes it, so
/// a broken behaviour fails the test instead of hanging the suite. The
/// watchdog is cancelled afterwards so it does not count as a leak.
public func runWithWatchdog(
    _ reactor: Reactor, limit: Double = 10, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let watchdog = reactor.callLater(limit) {
        Issue.record("watchdog: the reactor was still running after \(limit) s", sourceLocation: sourceLocation)
        reactor.crash()
    }
    try reactor.run()
    if watchdog.isActive { try watchdog.cancel() }
}
