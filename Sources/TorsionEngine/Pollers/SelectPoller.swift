import Glibc

/// The select backend refuses a descriptor numbered at or above
/// `FD_SETSIZE`: an `fd_set` is a fixed bitmap of that many bits, and
/// setting a bit past its end would corrupt memory. Use the poll or epoll
/// backend for processes with more descriptors.
public struct SelectDescriptorLimitExceeded: Error, CustomStringConvertible, Equatable, Sendable {
    /// The descriptor that was refused.
    public let fileDescriptor: Int32
    /// The first number select cannot watch (`FD_SETSIZE`, 1024 on Linux).
    public let limit: Int32
    /// Makes the error for `fileDescriptor` refused at `limit`.
    package init(fileDescriptor: Int32, limit: Int32) {
        self.fileDescriptor = fileDescriptor
        self.limit = limit
    }
    /// Names the descriptor, the limit and the way out.
    public var description: String {
        "SelectDescriptorLimitExceeded: fd \(fileDescriptor) is not below FD_SETSIZE (\(limit)); "
            + "the select backend cannot watch it, use poll or epoll"
    }
}

/// The select(2) backend: the registrations are kept here and copied into
/// fresh `fd_set` bitmaps on every wait. Refuses descriptors at or above
/// `FD_SETSIZE` with ``SelectDescriptorLimitExceeded``. Loop thread only.
package final class SelectPoller: Poller {
    /// The capacity of an `fd_set` in bits: Glibc's `FD_SETSIZE` (1024),
    /// computed from the type so it cannot disagree with the bitmap the
    /// kernel and this file write.
    package static let descriptorLimit = Int32(MemoryLayout<fd_set>.size * 8)

    /// fd → generation and interest of the registration.
    private var registrations: [Int32: (generation: UInt32, interest: PollerInterest)] = [:]

    /// Makes an empty poller; select(2) needs no descriptor of its own.
    package init() {}

    package func register(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        guard fd >= 0, fd < Self.descriptorLimit else {
            throw SelectDescriptorLimitExceeded(fileDescriptor: fd, limit: Self.descriptorLimit)
        }
        registrations[fd] = (generation, interest)
    }

    package func modify(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        registrations[fd] = (generation, interest)
    }

    package func unregister(_ fd: Int32) throws {
        registrations[fd] = nil
    }

    package func wait(timeout: Double?, into events: inout [PollerEvent]) throws {
        events.removeAll(keepingCapacity: true)
        var readSet = fd_set()
        var writeSet = fd_set()
        var highest: Int32 = -1
        for (fd, registration) in registrations {
            if registration.interest.contains(.read) { Self.insert(fd, into: &readSet) }
            if registration.interest.contains(.write) { Self.insert(fd, into: &writeSet) }
            highest = max(highest, fd)
        }
        var limit = timeval()
        let count: Int32
        if let timeout {
            // select takes a timeval; seconds are clamped to 10^8 (about three
            // years) so that converting a far-future deadline such as
            // callLater(1e12) to an integer cannot trap, and the wait simply
            // wakes early and waits again.
            let clamped = min(max(timeout, 0), 1e8)
            limit.tv_sec = Int(clamped)
            limit.tv_usec = min(Int(((clamped - clamped.rounded(.down)) * 1e6).rounded(.up)), 999_999)
            count = select(highest + 1, &readSet, &writeSet, nil, &limit)
        } else {
            count = select(highest + 1, &readSet, &writeSet, nil, nil)
        }
        if count < 0 {
            let code = errno
            if code == EINTR { return }
            // EBADF: a registered descriptor was closed without being
            // unregistered. select cannot say which; find them, so the
            // engine drops them instead of the loop failing for good.
            guard code == EBADF else { throw SystemError(errno: code, call: "select") }
            for (fd, registration) in registrations where !Descriptors.isOpen(fd) {
                events.append(PollerEvent(fileDescriptor: fd, generation: registration.generation, ready: .invalid))
            }
            return
        }
        guard count > 0 else { return }
        for (fd, registration) in registrations {
            var ready: PollerInterest = []
            if Self.contains(fd, in: &readSet) { ready.insert(.read) }
            if Self.contains(fd, in: &writeSet) { ready.insert(.write) }
            if !ready.isEmpty {
                events.append(PollerEvent(fileDescriptor: fd, generation: registration.generation, ready: ready))
            }
        }
    }

    package func close() {}

    // MARK: fd_set bits (the FD_SET / FD_ISSET macros are not imported)

    /// The word and bit of `fd` in an `fd_set` viewed as an array of `Int`.
    private static func position(_ fd: Int32) -> (word: Int, mask: Int) {
        let bitsPerWord = Int.bitWidth
        return (Int(fd) / bitsPerWord, 1 << (Int(fd) % bitsPerWord))
    }

    private static func insert(_ fd: Int32, into set: inout fd_set) {
        precondition(fd >= 0 && fd < descriptorLimit, "fd \(fd) outside fd_set")
        let (word, mask) = position(fd)
        // SAFETY: fd is below the set's capacity (checked above), so `word` indexes inside it.
        withUnsafeMutableBytes(of: &set) { $0.bindMemory(to: Int.self)[word] |= mask }
    }

    private static func contains(_ fd: Int32, in set: inout fd_set) -> Bool {
        let (word, mask) = position(fd)
        // SAFETY: only registered fds, all below the capacity, are looked up.
        return withUnsafeMutableBytes(of: &set) { $0.bindMemory(to: Int.self)[word] & mask != 0 }
    }
}
