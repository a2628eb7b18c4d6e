import CLibURing
import Glibc
import TorsionEngine

// Stream receive and send as io_uring operations, not readiness:
//
// - Receiving is one multishot `IORING_OP_RECV` per connection that picks
//   its buffers from the engine's provided ``BufferRing``: the kernel posts
//   a CQE per chunk, with no SQE and no system call of its own. Each chunk
//   is copied into the one array the protocol gets (see
//   ``ReceivedArrays``) and its buffer goes back to the ring. Where the
//   kernel can (6.12), the ring is incremental: receives share large
//   buffers, so a bulk transfer gets chunks as large as a readiness read's
//   while small messages pack into one buffer.
// - Sending is `IORING_OP_SENDMSG` straight from the transport's arrays
//   (vectored, `MSG_NOSIGNAL`, SCM_RIGHTS when descriptors travel), or
//   `IORING_OP_SEND` for the usual single array with no descriptors, one
//   per descriptor in flight, resubmitted for the rest after a short send.
//   A single array of at most ``URingStream/sendBufferSize`` bytes is
//   copied into the descriptor's own send buffer first: the copy is
//   cheaper than keeping the array alive until the CQE, which costs its
//   reuse for the next receive (an allocation and a free per message).
//
// Deliberately not used:
// - `SEND_ZC`: a zero-copy send posts a second, notification CQE and pins
//   the pages until the network stack lets go; that pays off only for
//   large buffers (tens of KiB and up), not for the small messages of a
//   request/response protocol, where copying is cheaper than the pinning.
// - `IOSQE_ASYNC`: it forces every operation onto an io-wq worker thread
//   instead of the inline attempt at submission, which for a socket that
//   has data (or room) already is the fast path.
// - `IORING_SETUP_SQPOLL`: a kernel thread that polls the SQ burns a core
//   while the loop is idle; the loop submits once per turn anyway.

/// The stream state of one ``URingEngine``: the provided buffer ring that
/// every multishot receive picks from (created by the first receive) and
/// each descriptor's receive and send. Loop thread only.
package final class URingStreams {
    /// Receives and sends by descriptor, from the first operation until
    /// the descriptor is unwatched.
    @exclusivity(unchecked) var byDescriptor = FileDescriptorMap<URingStream>()
    /// The engine's provided buffer ring, once a receive needed it.
    @exclusivity(unchecked) var buffers: BufferRing?
    /// The arrays chunks are delivered in (storage reused when free).
    let receivedArrays = ReceivedArrays()

    /// Whether the ring is made incremental (`IOU_PBUF_RING_INC`) when the
    /// kernel takes it; a kernel before 6.12 refuses it, and the engine
    /// then makes a ring of whole buffers. Settable before the first
    /// receive; tests turn it off to cover both kinds of ring.
    package var prefersIncrementalBuffers = true
    /// Buffers in the ring, or `nil` for the default of its kind.
    ///
    /// The engine copies each chunk out and returns a buffer the kernel is
    /// done with before the next CQE is looked at, so buffers are only out
    /// between the kernel's receive and the loop's next reaping.
    /// - A ring of whole buffers needs about one buffer per connection that
    ///   receives in one turn: 1024 covers the 1000 ping-pong connections
    ///   of the echo benchmark without `ENOBUFS`; a bigger load only costs
    ///   re-arms. (The C reference server holds each buffer until its echo
    ///   is sent, so it needs four times as many.)
    /// - An incremental ring packs those receives into a few buffers, so
    ///   256 are plenty.
    ///
    /// Settable before the first receive; tests make it tiny to exhaust
    /// the ring.
    package var bufferCount: Int?
    /// Bytes per buffer, the most one CQE delivers, or `nil` for the
    /// default of the ring's kind.
    /// - Whole buffers: 16 KiB, which keeps 1024 of them at 16 MiB of
    ///   address space (pages are touched only as the ring cycles) while a
    ///   bulk transfer still takes few CQEs.
    /// - Incremental: 64 KiB, what a readiness engine reads at once, for
    ///   the same 16 MiB with 256 buffers. Each chunk is one receive in
    ///   the kernel: on loopback, chunks of up to 64 KiB instead of 16 cut
    ///   a bulk echo's server CPU per byte by about a quarter.
    ///
    /// Settable before the first receive.
    package var bufferSize: Int?

    /// The default shape of an incremental ring (see ``bufferCount`` and
    /// ``bufferSize``).
    static let incrementalShape = (count: 256, size: 65_536)
    /// The default shape of a ring of whole buffers.
    static let wholeShape = (count: 1024, size: 16_384)

    /// Multishot receives that ended with `ENOBUFS` (the ring was empty)
    /// and were re-armed: a ring too small for the load shows here.
    package internal(set) var exhaustedReceives = 0
    /// Sends the socket took only part of, whose rest was resubmitted.
    package internal(set) var shortSends = 0

    /// The buffer group id the ring is registered under; the engine has
    /// one ring, so any id works.
    static let bufferGroup: UInt16 = 1

    /// Empty: the ring is created by the first receive.
    package init() {}
}

/// The receive and send of one stream descriptor. Loop thread only.
final class URingStream {
    /// The descriptor this state belongs to.
    let fd: Int32
    /// Whether this is still the state of ``fd``: cleared when the stream
    /// is forgotten (unwatched), after which its late CQEs only give their
    /// buffers back. The same as finding this object in
    /// ``URingStreams/byDescriptor``, without a lookup and a retain per CQE.
    @exclusivity(unchecked) var isCurrent = true

    // MARK: Receiving

    /// Set while the transport receives (between ``URingEngine/receive(_:receiver:)``
    /// and ``URingEngine/cancelReceive(_:)`` or a final result).
    @exclusivity(unchecked) var receiver: (any StreamReceiver)?
    /// The armed multishot receive, until its final CQE: while set, no
    /// second receive is armed (the two would interleave bytes).
    @exclusivity(unchecked) var receiveToken: UInt64?
    /// Whether the armed receive was asked to cancel (once is enough).
    @exclusivity(unchecked) var cancelRequested = false
    /// Results that completed after the transport stopped receiving (CQEs
    /// already reaped, or completed before the cancellation reached the
    /// kernel), delivered in order when it receives again. Bounded by what
    /// the kernel read before the cancellation: at most one socket
    /// buffer's worth.
    @exclusivity(unchecked) var parked: [ReceiveResult] = []
    /// Whether a NOP is on its way to deliver ``parked`` from `wait`.
    var parkedDeliveryScheduled = false

    // MARK: Sending

    /// The send in flight, if any: one per descriptor. Left in place when
    /// the stream is forgotten, so the arrays an in-flight SENDMSG reads
    /// live until its final CQE (whose operation record keeps this stream)
    /// or until the engine closes, which drops every record with the ring.
    @exclusivity(unchecked) var send: PendingSend?
    /// A single-array send copied into ``sendBuffer``, while in flight
    /// (never at the same time as ``send``).
    @exclusivity(unchecked) var copiedSend: CopiedSend?
    /// The bytes of ``copiedSend``: allocated by the first copied send as
    /// small as it fits (``smallestSendBuffer`` or a power of two up to
    /// ``sendBufferSize``), reused by every later one that fits, replaced
    /// by a bigger one when a send does not (no send is in flight then, so
    /// the kernel no longer reads it), and freed with the stream (which the
    /// send's operation record keeps alive until the final CQE, or until
    /// the engine closes).
    private(set) var sendBuffer: UnsafeMutableRawBufferPointer?
    /// The largest array a send copies (and the most ``sendBuffer`` grows
    /// to): 4 KiB covers request/response messages; bulk writes are sent
    /// from their arrays, where the copy would cost more than it saves.
    static let sendBufferSize = 4_096
    /// The smallest ``sendBuffer``: small messages get small buffers, which
    /// the allocator packs together, so a thousand connections' sends do
    /// not each touch a page of their own.
    static let smallestSendBuffer = 256

    /// A send whose bytes were copied into ``sendBuffer``.
    struct CopiedSend {
        /// Bytes copied.
        let count: Int
        /// Bytes the kernel has taken so far.
        var offset = 0
        /// Called once with the outcome.
        let completion: (SendResult) -> Void
    }

    /// Runs `body` on the copied send in progress in place; there must be one.
    func updateCopiedSend<Result>(_ body: (inout CopiedSend) -> Result) -> Result {
        body(&copiedSend!)
    }

    /// Copies `bytes` (at most ``sendBufferSize``) into ``sendBuffer``,
    /// which no send may be using (the caller checks ``copiedSend``).
    func copyIntoSendBuffer(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= Self.sendBufferSize, "\(bytes.count) bytes do not fit the send buffer")
        if let buffer = sendBuffer, buffer.count >= bytes.count {
            buffer.copyMemory(from: bytes)
            return
        }
        sendBuffer?.deallocate()
        var size = Self.smallestSendBuffer
        while size < bytes.count { size *= 2 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        sendBuffer = buffer
        buffer.copyMemory(from: bytes)
    }

    /// Runs `body` on the send in progress in place; there must be one.
    /// Reading it this way copies nothing, where `stream.send` copied the
    /// whole record (retaining its arrays and closure) on every access.
    func updateSend<Result>(_ body: (inout PendingSend) -> Result) -> Result {
        body(&send!)
    }
    /// The message header of the send in flight; the kernel reads it (and
    /// ``vectors``) while the SQE is processed, so both live as long as
    /// this stream and are reused by the next send.
    let message = UnsafeMutablePointer<msghdr>.allocate(capacity: 1)
    /// The iovecs of the send in flight; grown as needed, at most
    /// ``maximumBuffersPerSend``.
    var vectors: UnsafeMutablePointer<iovec>?
    /// Capacity of ``vectors``.
    var vectorCapacity = 0
    /// The SCM_RIGHTS control message of a send that passes descriptors.
    var control: UnsafeMutableRawBufferPointer?

    /// Empty state for `fd`.
    init(fd: Int32) {
        self.fd = fd
        message.initialize(to: msghdr())
    }

    deinit {
        sendBuffer?.deallocate()
        message.deallocate()
        vectors?.deallocate()
        control?.deallocate()
    }

    /// Makes room for `count` iovecs.
    func reserveVectors(_ count: Int) -> UnsafeMutablePointer<iovec> {
        if let vectors, vectorCapacity >= count { return vectors }
        vectors?.deallocate()
        let capacity = max(count, 8)
        let allocated = UnsafeMutablePointer<iovec>.allocate(capacity: capacity)
        vectors = allocated
        vectorCapacity = capacity
        return allocated
    }

    /// Makes room for a control message of `space` bytes.
    func reserveControl(_ space: Int) -> UnsafeMutableRawBufferPointer {
        if let control, control.count >= space { return control }
        control?.deallocate()
        let allocated = UnsafeMutableRawBufferPointer.allocate(
            byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
        control = allocated
        return allocated
    }
}

extension URingEngine {
    // MARK: Receiving

    /// Starts (or, while receiving, re-targets) the multishot receive of
    /// `fd`. Results parked while the transport had paused are delivered
    /// first, in order, from the next ``wait(timeout:)``. Loop thread only.
    ///
    /// - Throws: ``SystemError`` or ``BufferRingConfigurationError`` when
    ///   the buffer ring cannot be set up; nothing is armed then.
    package func receive(_ fd: Int32, receiver: any StreamReceiver) throws {
        _ = try receiveBuffers()
        let stream = stream(for: fd)
        stream.receiver = receiver
        if !stream.parked.isEmpty {
            scheduleParkedDelivery(stream)
        } else if stream.receiveToken == nil {
            armReceive(stream)
        }
        // Otherwise the armed receive goes on (or, if its cancellation is
        // under way, is re-armed by its final CQE).
    }

    /// Stops receiving from `fd`: the receiver is not called again until
    /// ``receive(_:receiver:)``, and the multishot receive is cancelled so
    /// the kernel stops reading the socket (backpressure). Chunks that
    /// complete meanwhile are kept, in order, for the next receive. No-op
    /// when not receiving. Loop thread only.
    package func cancelReceive(_ fd: Int32) {
        guard let stream = streams.byDescriptor[fd], stream.receiver != nil else { return }
        stream.receiver = nil
        if let token = stream.receiveToken, !stream.cancelRequested {
            stream.cancelRequested = true
            cancel(token)
        }
    }

    /// The buffer ring, created and registered on first use: incremental
    /// when preferred and the kernel takes it, else of whole buffers.
    private func receiveBuffers() throws -> BufferRing {
        if let buffers = streams.buffers { return buffers }
        // A shape's count and size, unless the tests set their own.
        func makeRing(_ shape: (count: Int, size: Int), incremental: Bool) throws -> BufferRing {
            try BufferRing(
                ring: &ring, groupID: URingStreams.bufferGroup, bufferCount: streams.bufferCount ?? shape.count,
                bufferSize: streams.bufferSize ?? shape.size, incremental: incremental)
        }
        var incremental: BufferRing?
        if streams.prefersIncrementalBuffers {
            do {
                incremental = try makeRing(URingStreams.incrementalShape, incremental: true)
            } catch let error as SystemError where error.errno == EINVAL {
                // A kernel before 6.12: no incremental rings.
            }
        }
        let made = try incremental ?? makeRing(URingStreams.wholeShape, incremental: false)
        streams.buffers = made
        return made
    }

    /// The state of `fd`, created on first use.
    private func stream(for fd: Int32) -> URingStream {
        if let stream = streams.byDescriptor[fd] { return stream }
        let stream = URingStream(fd: fd)
        streams.byDescriptor[fd] = stream
        return stream
    }

    /// Submits the multishot receive of `stream`, selecting buffers from
    /// the ring.
    private func armReceive(_ stream: URingStream) {
        let fd = stream.fd
        stream.cancelRequested = false
        stream.receiveToken = submit(
            { sqe in
                io_uring_prep_recv_multishot(sqe, fd, nil, 0, 0)
                sqe.pointee.flags |= BufferRing.selectFlag
                sqe.pointee.buf_group = URingStreams.bufferGroup
            }, operation: .receive(stream))
    }

    /// One CQE of the multishot receive of `stream`. Its bytes, if any,
    /// are copied and the buffer settled before anything else happens, even
    /// for a stream that was unwatched meanwhile (the kernel cannot reuse
    /// the buffer otherwise, and an incremental ring's next bytes are found
    /// by counting every CQE's).
    func receiveCompleted(_ stream: URingStream, result: Int32, flags: UInt32) {
        var chunk: [UInt8]?
        if flags & IORING_CQE_F_BUFFER != 0, let buffers = streams.buffers {
            let id = UInt16(truncatingIfNeeded: flags >> IORING_CQE_BUFFER_SHIFT)
            // The bytes are the protocol's own array now: a buffer the
            // kernel is done with goes back at once, before dataReceived,
            // which is as early as it can and means the ring only ever
            // misses buffers of CQEs still waiting to be reaped.
            let receivedArrays = streams.receivedArrays
            chunk = buffers.consume(
                id, count: max(Int(result), 0), kernelKeepsBuffer: flags & BufferRing.kernelKeepsBufferFlag != 0
            ) { bytes in bytes.isEmpty ? nil : receivedArrays.makeArray(copying: bytes) }
        }
        let isFinal = flags & IORING_CQE_F_MORE == 0
        if isFinal {
            stream.receiveToken = nil
            stream.cancelRequested = false
        }
        guard stream.isCurrent else { return }
        if let chunk { deliver(.data(chunk), stream) }
        // The receiver may have closed the connection: the rest is for a
        // stream that is still current.
        guard isFinal, stream.isCurrent else { return }
        if result == 0 {
            deliver(.endOfFile, stream)
        } else if result > 0 || result == -ENOBUFS || result == -ECANCELED {
            if result == -ENOBUFS { streams.exhaustedReceives += 1 }
            // A multishot receive ended without an end of stream: the
            // kernel stopped it (CQ overflow), the ring was empty when a
            // chunk arrived (ENOBUFS: the bytes stay in the socket), or we
            // cancelled it and the transport has resumed since. For
            // ENOBUFS the buffers are back by now: every earlier CQE gave
            // its buffer back when it was handled, and the new SQE
            // reaches the kernel with the next submission, after this
            // whole batch of CQEs returned theirs.
            rearmIfReceiving(stream)
        } else {
            deliver(.failed(SystemError(errno: -result, call: "recv")), stream)
        }
    }

    /// Hands `result` to the receiver, or parks it when the transport does
    /// not receive right now or earlier results still wait (order).
    /// A final result (end of file, error) ends receiving first.
    private func deliver(_ result: ReceiveResult, _ stream: URingStream) {
        guard let receiver = stream.receiver, stream.parked.isEmpty else {
            stream.parked.append(result)
            return
        }
        if case .data = result {} else { stream.receiver = nil }
        receiver.received(result)
    }

    /// Arms a new multishot receive when the transport still receives,
    /// none is armed and nothing is parked.
    private func rearmIfReceiving(_ stream: URingStream) {
        guard stream.isCurrent, stream.receiver != nil, stream.receiveToken == nil,
            stream.parked.isEmpty
        else { return }
        armReceive(stream)
    }

    /// Delivers the parked results from the next ``wait(timeout:)`` (not
    /// from inside ``receive(_:receiver:)``, which the protocol may call from
    /// its own code): a NOP's completion runs them.
    private func scheduleParkedDelivery(_ stream: URingStream) {
        guard !stream.parkedDeliveryScheduled else { return }
        stream.parkedDeliveryScheduled = true
        submit({ sqe in io_uring_prep_nop(sqe) }) { [unowned self] _, _ in
            stream.parkedDeliveryScheduled = false
            deliverParked(stream)
        }
    }

    /// Delivers parked results in order while the transport receives, then
    /// re-arms the receive if it still does.
    private func deliverParked(_ stream: URingStream) {
        while stream.isCurrent, let receiver = stream.receiver, !stream.parked.isEmpty {
            let result = stream.parked.removeFirst()
            if case .data = result {} else { stream.receiver = nil }
            receiver.received(result)
        }
        rearmIfReceiving(stream)
    }

    // MARK: Sending

    /// Sends every byte of `buffers` in order with `IORING_OP_SENDMSG`
    /// SQEs of at most ``maximumBuffersPerSend`` iovecs, resubmitting the
    /// rest after a short send; `descriptors` travel with the first bytes
    /// as SCM_RIGHTS. Returns `.sent(0)` at once when there is nothing to
    /// send, else `nil`: `completion` runs from ``wait(timeout:)`` unless
    /// ``unwatch(_:)`` comes first. One send per descriptor at a time.
    /// Loop thread only.
    package func send(
        _ fd: Int32, buffers: [[UInt8]], descriptors: [Int32], completion: @escaping (SendResult) -> Void
    ) -> SendResult? {
        precondition(descriptors.count <= maximumDescriptorsPerSend, "more descriptors than one send passes")
        var pending = PendingSend(buffers: buffers, descriptors: descriptors, completion: completion)
        pending.advance(by: 0)  // past leading empty buffers
        // As on the readiness engines, descriptors ride on bytes: with no
        // bytes there is nothing to send them with.
        if pending.isFinished { return .sent(0) }
        let stream = stream(for: fd)
        // A second send now would interleave its bytes with the first's.
        precondition(stream.send == nil && stream.copiedSend == nil, "fd \(fd) already has a send in progress")
        stream.send = pending
        submitSend(stream)
        return nil
    }

    /// Sends `bytes` with `IORING_OP_SEND` from the descriptor's send
    /// buffer when they fit it (see ``URingStream/sendBufferSize``), so the
    /// array is not kept; a bigger array is sent from itself, as a batch of
    /// one. Returns `.sent(0)` at once for no bytes, else `nil`.
    package func send(_ fd: Int32, bytes: [UInt8], completion: @autoclosure () -> (SendResult) -> Void) -> SendResult? {
        if bytes.isEmpty { return .sent(0) }
        guard bytes.count <= URingStream.sendBufferSize else {
            return send(fd, buffers: [bytes], descriptors: [], completion: completion())
        }
        let stream = stream(for: fd)
        precondition(stream.send == nil && stream.copiedSend == nil, "fd \(fd) already has a send in progress")
        bytes.withUnsafeBytes { stream.copyIntoSendBuffer($0) }
        stream.copiedSend = URingStream.CopiedSend(count: bytes.count, completion: completion())
        submitCopiedSend(stream)
        return nil
    }

    /// Submits a SEND of what is left of the stream's copied send.
    private func submitCopiedSend(_ stream: URingStream) {
        guard let buffer = stream.sendBuffer else { return }
        let fd = stream.fd
        let (offset, count) = stream.updateCopiedSend { ($0.offset, $0.count) }
        let start = buffer.baseAddress! + offset
        submit(
            { sqe in io_uring_prep_send(sqe, fd, start, count - offset, Int32(MSG_NOSIGNAL)) },
            operation: .send(stream))
    }

    /// Submits one SENDMSG for what is left of `pending` (up to
    /// ``maximumBuffersPerSend`` buffers), or a SEND when that is a single
    /// buffer with no descriptors, with MSG_NOSIGNAL: a peer that went away
    /// is an EPIPE result, not a SIGPIPE that kills the process.
    private func submitSend(_ stream: URingStream) {
        guard stream.send != nil else { return }
        let fd = stream.fd
        // The send is read in place (inout), never copied out of the
        // stream: a copy retains its arrays and closure, several times per
        // message.
        let count = stream.updateSend { min($0.buffers.count - $0.index, maximumBuffersPerSend) }
        let vectors = stream.reserveVectors(count)
        let passing = stream.updateSend { pending in
            for position in 0..<count {
                let skip = position == 0 ? pending.offset : 0
                // SAFETY: a native array's storage does not move while the
                // array is alive and unmutated; `stream.send` holds every
                // array, unmutated, until the send's final CQE (the slot's
                // `.send(stream)` operation keeps `stream` alive, and
                // forgetting the stream leaves `send` in place), so the
                // pointer stays valid after withUnsafeBytes returns. The
                // kernel only reads through it.
                vectors[position] = pending.buffers[pending.index + position].withUnsafeBytes { bytes in
                    iovec(
                        iov_base: bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0 + skip) },
                        iov_len: bytes.count - skip)
                }
            }
            return pending.descriptors
        }
        if count == 1, passing.isEmpty {
            // One buffer and nothing to pass: a SEND, which spares the
            // kernel importing a msghdr and iovec array per message.
            let buffer = vectors[0]
            submit(
                { sqe in io_uring_prep_send(sqe, fd, buffer.iov_base, buffer.iov_len, Int32(MSG_NOSIGNAL)) },
                operation: .send(stream))
            return
        }
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = count
        if !passing.isEmpty {
            let control = stream.reserveControl(RightsMessage.controlSpace(passing: passing.count))
            RightsMessage.writeControl(passing: passing, into: control, of: &message)
        }
        stream.message.pointee = message
        let header = stream.message
        submit(
            { sqe in io_uring_prep_sendmsg(sqe, fd, header, UInt32(MSG_NOSIGNAL)) },
            operation: .send(stream))
    }

    /// The CQE of one SEND or SENDMSG: on, done, or failed. Ignored when
    /// the send was abandoned (``unwatch(_:)``).
    func sendCompleted(_ stream: URingStream, result: Int32) {
        guard stream.isCurrent else { return }
        if stream.copiedSend != nil { return copiedSendCompleted(stream, result: result) }
        guard stream.send != nil else { return }
        if result > 0 {
            let finished = stream.updateSend { pending in
                if !pending.descriptors.isEmpty { pending.descriptors = [] }
                pending.advance(by: Int(result))
                return pending.isFinished
            }
            if !finished {
                // A short send: the socket buffer took part of it. The
                // rest goes in a new SQE, which the kernel runs when the
                // socket has room again.
                streams.shortSends += 1
                return submitSend(stream)
            }
            guard var pending = stream.send.take() else { return }
            // The sender's batch must be uniquely referenced again when it
            // hears of the completion, so it can reuse the storage.
            pending.releaseBuffers()
            return pending.completion(.sent(pending.total))
        }
        guard let error = sendFailure(result, call: "sendmsg") else { return submitSend(stream) }
        stream.send.take()?.completion(.failed(error))
    }

    /// What a send CQE that moved no bytes means: `nil` when the send is
    /// to be submitted again, else its error.
    private func sendFailure(_ result: Int32, call: String) -> SystemError? {
        // The kernel retries EINTR and EAGAIN itself; should one surface,
        // trying again is what a readiness loop would do. A stream
        // socket's send never returns 0 for bytes to send; if it did,
        // resubmitting could spin forever: fail instead.
        if result == -EINTR || result == -EAGAIN { return nil }
        return SystemError(errno: result == 0 ? EIO : -result, call: call)
    }

    /// The CQE of a SEND from the stream's send buffer: on, done, or failed.
    private func copiedSendCompleted(_ stream: URingStream, result: Int32) {
        if result > 0 {
            let finished = stream.updateCopiedSend { send in
                send.offset += Int(result)
                return send.offset == send.count
            }
            if !finished {
                streams.shortSends += 1
                return submitCopiedSend(stream)
            }
            guard let send = stream.copiedSend.take() else { return }
            return send.completion(.sent(send.count))
        }
        guard let error = sendFailure(result, call: "send") else { return submitCopiedSend(stream) }
        stream.copiedSend.take()?.completion(.failed(error))
    }

    // MARK: Forgetting

    /// Forgets the receive and send state of `fd` (called by
    /// ``unwatch(_:)``, which cancels the operations): the stream is no
    /// longer current, so its late CQEs only give their buffers back; its
    /// send state stays in place until the send's final CQE, because the
    /// kernel may still read it.
    func forgetStream(_ fd: Int32) {
        guard let stream = streams.byDescriptor.removeValue(forKey: fd) else { return }
        stream.isCurrent = false
        stream.receiver = nil
        stream.parked.removeAll()
    }

    /// Unregisters the buffer ring before the ring itself goes away, so no
    /// receive can pick a buffer from memory about to be freed (called by
    /// ``close()``).
    func closeStreams() {
        for (fd, _) in streams.byDescriptor.entries { forgetStream(fd) }
        streams.buffers?.unregister(from: &ring)
        streams.buffers = nil
    }
}

/// With stream receive and send, the engine has every operation of the
/// reactor's engine protocol: the reactor can run on it.
extension URingEngine: IOEngine {}
