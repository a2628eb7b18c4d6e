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

/// The select(2) backend: the registrations are kept here, mirrored in
/// two `fd_set` bitmaps that each wait copies. Refuses descriptors at or above
/// `FD_SETSIZE` with ``SelectDescriptorLimitExceeded``. Loop thread only.
package final class SelectPoller: Poller {
    /// The capacity of an `fd_set` in bits: Glibc's `FD_SETSIZE` (1024),
    /// computed from the type so it cannot disagree with the bitmap the
    /// kernel and this file write.
    package static let descriptorLimit = Int32(MemoryLayout<fd_set>.size * 8)

    /// fd → generation of the registration (its interest lives in the
    /// watched sets).
    @exclusivity(unchecked) private var generations = FileDescriptorMap<UInt32>()
    /// The sets select is given, kept up to date as registrations change,
    /// so a wait copies them (a few hundred bytes) instead of rebuilding
    /// them from every registration.
    @exclusivity(unchecked) private var watchedForReading = fd_set()
    @exclusivity(unchecked) private var watchedForWriting = fd_set()
    /// The highest registered descriptor, or -1.
    @exclusivity(unchecked) private var highest: Int32 = -1

    /// An empty poller.
    package init() {}

    package func register(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        guard fd >= 0, fd < Self.descriptorLimit else {
            throw SelectDescriptorLimitExceeded(fileDescriptor: fd, limit: Self.descriptorLimit)
        }
        record(fd, generation: generation, interest: interest)
    }

    package func modify(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        record(fd, generation: generation, interest: interest)
    }

    package func unregister(_ fd: Int32) throws {
        guard generations.removeValue(forKey: fd) != nil else { return }
        Self.set(fd, false, in: &watchedForReading)
        Self.set(fd, false, in: &watchedForWriting)
        while highest >= 0, generations[highest] == nil { highest -= 1 }
    }

    /// Stores a registration and mirrors its interest into the watched sets.
    private func record(_ fd: Int32, generation: UInt32, interest: PollerInterest) {
        generations[fd] = generation
        Self.set(fd, interest.contains(.read), in: &watchedForReading)
        Self.set(fd, interest.contains(.write), in: &watchedForWriting)
        highest = max(highest, fd)
    }

    package func wait(timeout: Double?, into events: inout [PollerEvent]) throws {
        events.removeAll(keepingCapacity: true)
        var readSet = watchedForReading
        var writeSet = watchedForWriting
        let count: Int32
        if let timeout {
            let bound = waitLimit(timeout)
            var limit = timeval(tv_sec: bound.seconds, tv_usec: bound.microseconds)
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
            for (fd, generation) in generations.entries where !Descriptors.isOpen(fd) {
                events.append(PollerEvent(fileDescriptor: fd, generation: generation, ready: .invalid))
            }
            return
        }
        guard count > 0 else { return }
        // Word by word, skipping empty words: with many idle descriptors
        // most words of the result sets are zero.
        let words = Int(highest) / Int.bitWidth + 1
        withUnsafeBytes(of: &readSet) { readBytes in
            withUnsafeBytes(of: &writeSet) { writeBytes in
                let reads = readBytes.bindMemory(to: UInt.self)
                let writes = writeBytes.bindMemory(to: UInt.self)
                for word in 0..<words {
                    var bits = reads[word] | writes[word]
                    while bits != 0 {
                        let bit = bits.trailingZeroBitCount
                        bits &= bits - 1
                        let mask: UInt = 1 << bit
                        let fd = Int32(word * Int.bitWidth + bit)
                        guard let generation = generations[fd] else { continue }
                        var ready: PollerInterest = []
                        if reads[word] & mask != 0 { ready.insert(.read) }
                        if writes[word] & mask != 0 { ready.insert(.write) }
                        events.append(PollerEvent(fileDescriptor: fd, generation: generation, ready: ready))
                    }
                }
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

    /// Sets or clears `fd`'s bit (FD_SET / FD_CLR).
    private static func set(_ fd: Int32, _ on: Bool, in set: inout fd_set) {
        precondition(fd >= 0 && fd < descriptorLimit, "fd \(fd) outside fd_set")
        let (word, mask) = position(fd)
        // SAFETY: fd is below the set's capacity (checked above), so `word` indexes inside it.
        withUnsafeMutableBytes(of: &set) { bytes in
            let words = bytes.bindMemory(to: Int.self)
            words[word] = on ? words[word] | mask : words[word] & ~mask
        }
    }
}
