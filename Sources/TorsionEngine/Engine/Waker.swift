import CTorsionPosix
import Glibc

/// Wakes a loop blocked in its poller from another thread: an eventfd the
/// engine watches for readability. Writing adds to the eventfd's counter
/// (the fd becomes readable), draining reads it back to zero.
///
/// ``wake()`` is safe from any thread (one `write`); ``drain()`` and
/// ``close()`` belong to the loop's thread.
package final class Waker: Sendable {
    /// The eventfd; watched for readability by the engine.
    package let fileDescriptor: Int32

    /// Creates a nonblocking, close-on-exec eventfd.
    package init() throws(SystemError) {
        fileDescriptor = try retryingInterrupts("eventfd") { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
    }

    /// Makes the eventfd readable. Any thread. `EAGAIN` means the counter
    /// is saturated: the fd is readable already, so the wake is not lost.
    package func wake() {
        var one: UInt64 = 1
        while true {
            // SAFETY: writes the 8 bytes of a local UInt64, the size eventfd requires.
            let written = withUnsafeBytes(of: &one) { write(fileDescriptor, $0.baseAddress, 8) }
            if written >= 0 || errno != EINTR { return }
        }
    }

    /// Resets the counter so the eventfd stops being readable. Loop thread.
    package func drain() {
        var counter: UInt64 = 0
        while true {
            // SAFETY: reads into a local UInt64, the 8 bytes eventfd hands out.
            let count = withUnsafeMutableBytes(of: &counter) { read(fileDescriptor, $0.baseAddress, 8) }
            if count >= 0 || errno != EINTR { return }
        }
    }

    /// Closes the eventfd. Loop thread, once, when the engine closes.
    package func close() {
        Descriptors.close(fileDescriptor)
    }
}
