import Glibc

/// The poll(2) backend: a dense array of `pollfd` handed to the kernel on
/// every wait, with the generations kept in a parallel array and an index
/// from fd to slot so register, modify and unregister are O(1).
/// Loop thread only.
package final class PollPoller: Poller {
    /// What poll(2) reads and fills, one slot per registered fd.
    private var slots: [pollfd] = []
    /// The generation of each slot, parallel to ``slots``.
    private var generations: [UInt32] = []
    /// fd → index in ``slots``.
    private var indexOf: [Int32: Int] = [:]

    /// Makes an empty poller; poll(2) needs no descriptor of its own.
    package init() {}

    private static func flags(_ interest: PollerInterest) -> Int16 {
        var flags: Int16 = 0
        if interest.contains(.read) { flags |= Int16(POLLIN) }
        if interest.contains(.write) { flags |= Int16(POLLOUT) }
        return flags
    }

    package func register(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        precondition(indexOf[fd] == nil, "fd \(fd) registered twice with the poll poller")
        indexOf[fd] = slots.count
        slots.append(pollfd(fd: fd, events: Self.flags(interest), revents: 0))
        generations.append(generation)
    }

    package func modify(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        guard let index = indexOf[fd] else { preconditionFailure("fd \(fd) modified but not registered") }
        slots[index].events = Self.flags(interest)
        generations[index] = generation
    }

    package func unregister(_ fd: Int32) throws {
        guard let index = indexOf.removeValue(forKey: fd) else { return }
        let last = slots.count - 1
        if index != last {
            slots[index] = slots[last]
            generations[index] = generations[last]
            indexOf[slots[index].fd] = index
        }
        slots.removeLast()
        generations.removeLast()
    }

    package func wait(timeout: Double?, into events: inout [PollerEvent]) throws {
        events.removeAll(keepingCapacity: true)
        // poll takes an Int32 of milliseconds: see pollMilliseconds.
        let milliseconds = Double.pollMilliseconds(timeout)
        let count = nfds_t(slots.count)
        // SAFETY: poll reads and writes exactly `count` pollfd entries of the array's storage.
        let ready = slots.withUnsafeMutableBufferPointer { poll($0.baseAddress, count, milliseconds) }
        if ready < 0 {
            if errno == EINTR { return }
            throw SystemError(call: "poll")
        }
        guard ready > 0 else { return }
        let problems = Int16(POLLERR | POLLHUP)
        for index in slots.indices where slots[index].revents != 0 {
            let flags = slots[index].revents
            var interest: PollerInterest = flags & Int16(POLLNVAL) != 0 ? .invalid : []
            if flags & (Int16(POLLIN) | problems) != 0 { interest.insert(.read) }
            if flags & (Int16(POLLOUT) | problems) != 0 { interest.insert(.write) }
            events.append(
                PollerEvent(fileDescriptor: slots[index].fd, generation: generations[index], ready: interest))
        }
    }

    package func close() {}
}
