import CTorsionPosix
import Glibc

/// The receives and sends in progress on one stream descriptor of a
/// ``ReadinessEngine``: what its readiness registration is for. Loop
/// thread only.
package final class StreamOperations {
    /// Set while receiving; hears each read.
    @exclusivity(unchecked) package var receiver: (any StreamReceiver)?
    /// Set while a send waits for writability.
    @exclusivity(unchecked) package var pendingSend: PendingSend?

    /// The readiness the operations need: read while receiving, write
    /// while a send waits.
    package var interest: PollerInterest {
        var interest: PollerInterest = []
        if receiver != nil { interest.insert(.read) }
        if pendingSend != nil { interest.insert(.write) }
        return interest
    }
}

/// A send in progress: the buffers, how far they were written, and whom to
/// tell when done. The readiness engine keeps one when a send could not
/// finish at once; the io_uring engine keeps one per send in flight.
package struct PendingSend {
    /// Everything the send was asked to write; kept until the send
    /// finished (see ``releaseBuffers()``).
    package private(set) var buffers: [[UInt8]]
    /// Descriptors still to pass with the next bytes (SCM_RIGHTS); emptied
    /// once a call wrote at least one byte, which carried them.
    package var descriptors: [Int32]
    /// The first buffer not completely written.
    package var index = 0
    /// Bytes of `buffers[index]` already written.
    package var offset = 0
    /// Bytes written so far, over all buffers.
    package var total = 0
    /// Called once with the outcome.
    package let completion: (SendResult) -> Void

    /// A send of `buffers` with `descriptors`, nothing written yet.
    package init(buffers: [[UInt8]], descriptors: [Int32], completion: @escaping (SendResult) -> Void) {
        self.buffers = buffers
        self.descriptors = descriptors
        self.completion = completion
    }

    /// Whether every byte was written.
    package var isFinished: Bool { index == buffers.count }

    /// Moves past `written` bytes, and past any empty buffers that follow.
    package mutating func advance(by written: Int) {
        total += written
        var remaining = written
        while remaining > 0 || index < buffers.count && buffers[index].isEmpty {
            let left = buffers[index].count - offset
            if remaining >= left {
                remaining -= left
                index += 1
                offset = 0
            } else {
                offset += remaining
                remaining = 0
            }
        }
    }

    /// Lets go of the arrays of a finished send, so the sender's batch is
    /// uniquely referenced again when it hears of the completion and its
    /// storage is reused rather than copied.
    package mutating func releaseBuffers() {
        precondition(isFinished, "buffers released before the send finished")
        buffers = []
        index = 0
    }
}

/// How a vectored write attempt ended.
private enum SendProgress {
    /// Every buffer was written.
    case finished
    /// The socket buffer is full (EAGAIN or a short write): wait for writability.
    case wouldBlock
    /// The call failed.
    case failed(SystemError)
}

// The completion-style stream operations emulated over readiness: read
// interest is registered once and kept while receiving; a send writes
// through at once and registers for writability only when the socket
// buffer is full. Registrations go through `watch`, so they get the
// registry's generations and stale events never reach an fd's new owner.
extension ReadinessEngine {
    /// The size of the loop-owned receive buffer: 64 KiB, enough for a full
    /// socket-buffer's worth per read on loopback without hogging memory.
    package static var receiveBufferSize: Int { 65_536 }

    /// Reads per wake-up for one descriptor: bounded so one busy
    /// connection cannot starve the others in the same turn; the poller
    /// is level-triggered and reports what is left on the next turn.
    package static var maximumReadsPerWakeUp: Int { 4 }

    package func receive(_ fd: Int32, receiver: any StreamReceiver) throws {
        let operations = streams[fd] ?? StreamOperations()
        let wasReceiving = operations.receiver != nil
        operations.receiver = receiver
        streams[fd] = operations
        guard !wasReceiving else { return }
        do {
            try updateStreamInterest(fd, operations)
        } catch {
            operations.receiver = nil
            if operations.interest.isEmpty { streams[fd] = nil }
            throw error
        }
    }

    package func cancelReceive(_ fd: Int32) {
        guard let operations = streams[fd], operations.receiver != nil else { return }
        operations.receiver = nil
        // Removing an interest from a registered, open descriptor does
        // not fail; if it did, the stale read readiness is ignored below.
        try? updateStreamInterest(fd, operations)
    }

    package func send(
        _ fd: Int32, buffers: [[UInt8]], descriptors: [Int32], completion: @escaping (SendResult) -> Void
    ) -> SendResult? {
        precondition(descriptors.count <= maximumDescriptorsPerSend, "more descriptors than one send passes")
        // Writing now while another send waits would reorder the bytes.
        precondition(streams[fd]?.pendingSend == nil, "fd \(fd) already has a send in progress")
        var pending = PendingSend(buffers: buffers, descriptors: descriptors, completion: completion)
        switch writeVectored(fd, &pending) {
        case .finished: return .sent(pending.total)
        case .failed(let error): return .failed(error)
        case .wouldBlock: return waitForWritability(fd, pending)
        }
    }

    package func send(_ fd: Int32, bytes: [UInt8], completion: @autoclosure () -> (SendResult) -> Void) -> SendResult? {
        precondition(streams[fd]?.pendingSend == nil, "fd \(fd) already has a send in progress")
        var written = 0
        while true {
            let (result, code) = sendOnce(fd, bytes, skipping: 0)
            if result == bytes.count { return .sent(result) }
            if result >= 0 {
                written = result
                break
            }
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { break }
            return .failed(SystemError(errno: code, call: "send"))
        }
        // The socket buffer is full: only now is a send record made, and
        // the rest goes out when the descriptor is writable.
        var pending = PendingSend(buffers: [bytes], descriptors: [], completion: completion())
        pending.advance(by: written)
        return waitForWritability(fd, pending)
    }

    /// Keeps `pending` until `fd` is writable; `nil` when registered, the
    /// registration's failure otherwise.
    private func waitForWritability(_ fd: Int32, _ pending: PendingSend) -> SendResult? {
        let operations = streams[fd] ?? StreamOperations()
        operations.pendingSend = pending
        streams[fd] = operations
        do {
            try updateStreamInterest(fd, operations)
            return nil
        } catch {
            operations.pendingSend = nil
            if operations.interest.isEmpty { streams[fd] = nil }
            return .failed(error)
        }
    }

    /// Registers `fd` for what `operations` need, or unregisters it when
    /// they need nothing (which forgets `operations`).
    private func updateStreamInterest(_ fd: Int32, _ operations: StreamOperations) throws {
        let interest = operations.interest
        if interest.isEmpty { return unwatch(fd) }
        try register(fd, interest: interest, handler: nil)
    }

    /// Dispatches readiness of a stream descriptor: reads first, then the
    /// pending send, each only while `fd` still has the same operations
    /// (a receiver or completion may close the connection, and the number may be reused).
    func streamReady(_ fd: Int32, _ ready: PollerInterest) {
        guard let operations = streams[fd] else { return }
        if ready.contains(.invalid) {
            let receiver = operations.receiver
            let pendingSend = operations.pendingSend
            unwatch(fd)
            let error = SystemError(errno: EBADF, call: "poll")
            receiver?.received(.failed(error))
            pendingSend?.completion(.failed(error))
            return
        }
        if ready.contains(.read) { performReceive(fd, operations) }
        if ready.contains(.write), streams[fd] === operations, var pending = operations.pendingSend {
            let progress = writeVectored(fd, &pending)
            if case .wouldBlock = progress {
                operations.pendingSend = pending
                return
            }
            operations.pendingSend = nil
            try? updateStreamInterest(fd, operations)
            switch progress {
            case .finished:
                // Let go of the buffers before the sender hears of it, so
                // its batch is uniquely referenced again and reused.
                pending.releaseBuffers()
                pending.completion(.sent(pending.total))
            case .failed(let error): pending.completion(.failed(error))
            case .wouldBlock: break
            }
        }
    }

    /// Reads up to ``maximumReadsPerWakeUp`` times into the loop-owned
    /// buffer, handing each chunk to the receiver. Stops early on a
    /// short read (the socket is drained), EAGAIN, end of file or an error;
    /// the last two end the receive before the receiver hears of them.
    private func performReceive(_ fd: Int32, _ operations: StreamOperations) {
        var reads = 0
        while reads < Self.maximumReadsPerWakeUp {
            guard streams[fd] === operations, let receiver = operations.receiver else { return }
            let count = read(fd, receiveBuffer.baseAddress, receiveBuffer.count)
            if count > 0 {
                reads += 1
                // One copy into an array the protocol owns; the loop's
                // buffer is reused for the next read.
                let bytes = receivedArrays.makeArray(copying: UnsafeRawBufferPointer(rebasing: receiveBuffer[..<count]))
                receiver.received(.data(bytes))
                if count < receiveBuffer.count { return }
                continue
            }
            let code = count == 0 ? 0 : errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return }
            operations.receiver = nil
            try? updateStreamInterest(fd, operations)
            receiver.received(code == 0 ? .endOfFile : .failed(SystemError(errno: code, call: "read")))
            return
        }
    }

    /// Writes as much of `pending` as the socket takes, in `sendmsg` calls
    /// of at most ``maximumBuffersPerSend`` buffers, advancing it.
    /// `MSG_NOSIGNAL`: a peer that went away is an `EPIPE` error here, not
    /// a SIGPIPE that would kill the process.
    private func writeVectored(_ fd: Int32, _ pending: inout PendingSend) -> SendProgress {
        while !pending.isFinished {
            let count = min(pending.buffers.count - pending.index, maximumBuffersPerSend)
            var attempted = 0
            for position in pending.index..<pending.index + count {
                attempted += pending.buffers[position].count
            }
            attempted -= pending.offset
            let (written, code) = sendChunk(
                fd, pending.buffers, from: pending.index, count: count, skipping: pending.offset,
                descriptors: pending.descriptors)
            if written < 0 {
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
                return .failed(SystemError(errno: code, call: "sendmsg"))
            }
            if written > 0 { pending.descriptors = [] }
            pending.advance(by: written)
            // A short write means the socket buffer is full: the next call
            // would only report EAGAIN, so wait for writability instead.
            if written < attempted { return .wouldBlock }
        }
        return .finished
    }

    /// One `send(2)` of `bytes` without their first `skip`, with
    /// MSG_NOSIGNAL. Returns the call's result and errno.
    private func sendOnce(_ fd: Int32, _ bytes: [UInt8], skipping skip: Int) -> (Int, Int32) {
        bytes.withUnsafeBytes { bytes in
            let result = Glibc.send(fd, bytes.baseAddress.map { $0 + skip }, bytes.count - skip, Int32(MSG_NOSIGNAL))
            return (result, result < 0 ? errno : 0)
        }
    }

    /// One `sendmsg` of `count` buffers starting at `start` (the first
    /// without its first `skip` bytes), with `descriptors` as SCM_RIGHTS
    /// when there are any; a plain `send` for a single buffer with no
    /// descriptors. Returns the call's result and errno.
    private func sendChunk(
        _ fd: Int32, _ buffers: [[UInt8]], from start: Int, count: Int, skipping skip: Int,
        descriptors: [Int32]
    ) -> (Int, Int32) {
        if count == 1, descriptors.isEmpty {
            // The common case, one array and nothing to pass: send(2) takes
            // one buffer without the kernel importing a msghdr and iovec
            // array, which makes it measurably cheaper per message than
            // sendmsg(2), with the same MSG_NOSIGNAL.
            return sendOnce(fd, buffers[start], skipping: skip)
        }
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { vectors in
            // Each array's bytes are only valid inside its withUnsafeBytes,
            // so the calls nest: the innermost one makes the system call
            // while every buffer is pinned. The depth is at most
            // maximumBuffersPerSend small frames.
            func pin(_ position: Int) -> (Int, Int32) {
                if position == count {
                    var message = msghdr()
                    message.msg_iov = vectors.baseAddress
                    message.msg_iovlen = count
                    return RightsMessage.withControl(passing: descriptors, in: &message) {
                        let result = sendmsg(fd, &$0, Int32(MSG_NOSIGNAL))
                        return (result, result < 0 ? errno : 0)
                    }
                }
                return buffers[start + position].withUnsafeBytes { bytes in
                    let offset = position == 0 ? skip : 0
                    // SAFETY: sendmsg only reads through iov_base; the
                    // mutable pointer is what the C struct's type asks for.
                    let base = bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0 + offset) }
                    vectors[position] = iovec(iov_base: base, iov_len: bytes.count - offset)
                    return pin(position + 1)
                }
            }
            return pin(0)
        }
    }
}

/// Builds the SCM_RIGHTS control message of a `sendmsg`. The CMSG_* macros
/// are not visible from Swift, so their arithmetic is spelled out: a
/// header, then the descriptors, each part aligned to `size_t`.
package enum RightsMessage {
    /// Rounds `length` up to `size_t` alignment (CMSG_ALIGN).
    private static func aligned(_ length: Int) -> Int {
        let alignment = MemoryLayout<Int>.size
        return (length + alignment - 1) & ~(alignment - 1)
    }

    /// Bytes of control buffer (CMSG_SPACE) that `count` descriptors need.
    package static func controlSpace(passing count: Int) -> Int {
        aligned(MemoryLayout<cmsghdr>.size) + aligned(count * MemoryLayout<Int32>.size)
    }

    /// Writes the SCM_RIGHTS message carrying `descriptors` into `control`,
    /// which holds at least ``controlSpace(passing:)`` bytes aligned for
    /// `cmsghdr`, and points `message` at it. An engine that sends
    /// asynchronously keeps `control` alive until the send completed.
    package static func writeControl(
        passing descriptors: [Int32], into control: UnsafeMutableRawBufferPointer, of message: inout msghdr
    ) {
        let headerLength = aligned(MemoryLayout<cmsghdr>.size)
        let dataLength = descriptors.count * MemoryLayout<Int32>.size
        let space = controlSpace(passing: descriptors.count)
        precondition(control.count >= space, "control buffer too small for \(descriptors.count) descriptors")
        control.initializeMemory(as: UInt8.self, repeating: 0)
        // SAFETY: the buffer holds `space` bytes, aligned for cmsghdr: the
        // header followed by the descriptors (CMSG_DATA).
        let header = control.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
        header.pointee.cmsg_len = headerLength + dataLength
        header.pointee.cmsg_level = SOL_SOCKET
        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
        descriptors.withUnsafeBytes { bytes in
            UnsafeMutableRawBufferPointer(rebasing: control[headerLength..<headerLength + dataLength])
                .copyMemory(from: bytes)
        }
        message.msg_control = control.baseAddress
        message.msg_controllen = space
    }

    /// Runs `body` with `message` carrying `descriptors` as SCM_RIGHTS (or
    /// unchanged when there are none).
    package static func withControl<Result>(
        passing descriptors: [Int32], in message: inout msghdr, _ body: (inout msghdr) -> Result
    ) -> Result {
        guard !descriptors.isEmpty else { return body(&message) }
        let space = controlSpace(passing: descriptors.count)
        return withUnsafeTemporaryAllocation(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment) { control in
            writeControl(passing: descriptors, into: control, of: &message)
            return body(&message)
        }
    }
}
