import CTorsionPosix
import Glibc

/// The epoll backend: registrations live in the kernel, and each report
/// carries the fd and its generation in `epoll_data.u64`, so stale reports
/// for a closed-and-reused fd are recognisable after the wait returns.
/// Loop thread only.
package final class EpollPoller: Poller {
    /// The epoll instance.
    private let epollFD: Int32
    /// Reused buffer for `epoll_wait`; grows (doubling, up to
    /// ``maximumBatch``) when a wait fills it, so a busy loop needs fewer
    /// calls.
    @exclusivity(unchecked) private var buffer: [epoll_event]
    /// Upper bound of ``buffer``: enough for a full batch without holding
    /// memory proportional to the number of descriptors (Twisted and NIO
    /// use a few hundred to a few thousand).
    private static let maximumBatch = 4096

    /// Creates a close-on-exec epoll instance.
    package init() throws(SystemError) {
        epollFD = try retryingInterrupts("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        buffer = Array(repeating: epoll_event(), count: 64)
    }

    /// Translates an interest into epoll flags.
    private static func flags(_ interest: PollerInterest) -> UInt32 {
        var flags: UInt32 = 0
        if interest.contains(.read) { flags |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if interest.contains(.write) { flags |= EPOLLOUT.rawValue }
        return flags
    }

    private func control(
        _ operation: Int32, _ name: String, _ fd: Int32, generation: UInt32, interest: PollerInterest
    ) throws(SystemError) {
        var event = epoll_event()
        event.events = Self.flags(interest)
        event.data.u64 = PollerEvent.userData(fileDescriptor: fd, generation: generation)
        try retryingInterrupts(name) { epoll_ctl(epollFD, operation, fd, &event) }
    }

    package func register(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        try control(EPOLL_CTL_ADD, "epoll_ctl(ADD)", fd, generation: generation, interest: interest)
    }

    package func modify(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        try control(EPOLL_CTL_MOD, "epoll_ctl(MOD)", fd, generation: generation, interest: interest)
    }

    package func unregister(_ fd: Int32) throws {
        // Kernels before 2.6.9 required a non-null event even for DEL.
        var unused = epoll_event()
        try retryingInterrupts("epoll_ctl(DEL)") { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &unused) }
    }

    package func wait(timeout: Double?, into events: inout [PollerEvent]) throws {
        events.removeAll(keepingCapacity: true)
        // epoll_wait takes an Int32 of milliseconds: see pollMilliseconds.
        let milliseconds = Double.pollMilliseconds(timeout)
        let capacity = Int32(buffer.count)
        // SAFETY: the kernel writes at most `capacity` entries into the buffer's storage.
        let count = buffer.withUnsafeMutableBufferPointer {
            epoll_wait(epollFD, $0.baseAddress, capacity, milliseconds)
        }
        if count < 0 {
            if errno == EINTR { return }
            throw SystemError(call: "epoll_wait")
        }
        let problems = EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue
        for index in 0..<Int(count) {
            let flags = buffer[index].events
            var ready: PollerInterest = []
            if flags & (EPOLLIN.rawValue | problems) != 0 { ready.insert(.read) }
            if flags & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { ready.insert(.write) }
            events.append(PollerEvent(userData: buffer[index].data.u64, ready: ready))
        }
        if Int(count) == buffer.count, buffer.count < Self.maximumBatch {
            buffer = Array(repeating: epoll_event(), count: buffer.count * 2)
        }
    }

    package func close() {
        Descriptors.close(epollFD)
    }
}
