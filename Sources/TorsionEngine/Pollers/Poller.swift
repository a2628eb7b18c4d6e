/// What a registration waits for: readability, writability or both.
package struct PollerInterest: OptionSet, Hashable, Sendable {
    package let rawValue: UInt8
    /// Makes an interest from its bits.
    package init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Wake up when a read would not block (data, end of file, an error).
    package static let read = PollerInterest(rawValue: 1 << 0)
    /// Wake up when a write would not block.
    package static let write = PollerInterest(rawValue: 1 << 1)
    /// Reported, never asked for: the descriptor is not open any more (it
    /// was closed while registered; poll's POLLNVAL, select's EBADF). The
    /// registration is useless and must be dropped, or the loop would spin.
    package static let invalid = PollerInterest(rawValue: 1 << 2)
}

/// One readiness report from ``Poller/wait(timeout:into:)``.
///
/// `generation` is the number the descriptor was registered with at the
/// time the poller saw it ready, packed beside the fd in the kernel's user
/// data where there is one (`epoll_data.u64 = fd | generation << 32`). The
/// shared ``DescriptorRegistry`` compares it with the current registration
/// and drops reports meant for a previous owner of a reused fd number.
package struct PollerEvent: Equatable, Sendable {
    /// The ready descriptor.
    package let fileDescriptor: Int32
    /// The generation it was registered with when found ready.
    package let generation: UInt32
    /// What it is ready for. Errors and hang-ups are reported as readiness
    /// for everything registered, so the handler's next syscall meets the
    /// error (Twisted's readers see EOF or the error in `doRead`).
    package let ready: PollerInterest

    /// Packs fd and generation into one 64-bit user-data word.
    package static func userData(fileDescriptor: Int32, generation: UInt32) -> UInt64 {
        UInt64(UInt32(bitPattern: fileDescriptor)) | UInt64(generation) << 32
    }

    /// Unpacks a word made by ``userData(fileDescriptor:generation:)``.
    package init(userData: UInt64, ready: PollerInterest) {
        self.fileDescriptor = Int32(bitPattern: UInt32(truncatingIfNeeded: userData))
        self.generation = UInt32(truncatingIfNeeded: userData >> 32)
        self.ready = ready
    }

    /// Makes a report from its parts.
    package init(fileDescriptor: Int32, generation: UInt32, ready: PollerInterest) {
        self.fileDescriptor = fileDescriptor
        self.generation = generation
        self.ready = ready
    }
}

/// A readiness multiplexer: the only part that differs between the select,
/// poll and epoll backends. Level-triggered: a descriptor that stays ready
/// is reported again on every wait until its interest is removed.
///
/// A poller keeps no handlers and makes no decisions: registration
/// bookkeeping, generations and dispatch live in ``ReadinessEngine`` and
/// ``DescriptorRegistry``, so each poller stays a small file. Loop thread
/// only.
package protocol Poller: AnyObject {
    /// Starts watching `fd` for `interest` (never empty).
    func register(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws
    /// Changes what a registered `fd` is watched for (never empty).
    func modify(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws
    /// Stops watching `fd`; it must be registered and still open.
    func unregister(_ fd: Int32) throws
    /// Blocks until a registered descriptor is ready or `timeout` seconds
    /// passed (`nil`: no limit), then replaces `events` with the reports.
    /// A wait interrupted by a signal returns with no events. Each poller
    /// clamps `timeout` to what its syscall can express.
    func wait(timeout: Double?, into events: inout [PollerEvent]) throws
    /// Releases the poller's own descriptor, if any. Called once.
    func close()
}

extension Double {
    /// A timeout in seconds as whole milliseconds for `poll` and
    /// `epoll_wait`: rounded up, so the loop never wakes just before a timer
    /// is due and spins, and clamped to `Int32.max` ms (about 24.8 days)
    /// because both calls take an `int`; a longer wait simply wakes early and
    /// waits again. `nil` (no limit) is -1.
    package static func pollMilliseconds(_ timeout: Double?) -> Int32 {
        guard let timeout else { return -1 }
        guard timeout > 0 else { return 0 }
        let milliseconds = (timeout * 1000).rounded(.up)
        return milliseconds >= Double(Int32.max) ? Int32.max : Int32(milliseconds)
    }
}

/// A wait bound in seconds as whole seconds and microseconds, for the
/// pollers that take a `timeval` (select, libevent), rounded up to the next
/// microsecond so a wait never ends just before its timer. Seconds are
/// clamped to 10^8 (about three years) so a far-future deadline such as
/// `callLater(1e12)` cannot trap when converted to an integer; the wait
/// simply wakes early and waits again. (A tuple, not a `timeval`: each C
/// module that includes <sys/time.h> declares its own `timeval` type.)
package func waitLimit(_ timeout: Double) -> (seconds: Int, microseconds: Int) {
    let clamped = min(max(timeout, 0), 1e8)
    return (Int(clamped), min(Int(((clamped - clamped.rounded(.down)) * 1e6).rounded(.up)), 999_999))
}
