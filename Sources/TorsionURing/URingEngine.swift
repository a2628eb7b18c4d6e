import CLibURing
import Glibc
import TorsionEngine

/// The io_uring engine: I/O submitted to the kernel as operations on a
/// ring, completed by completion queue entries (CQEs), instead of
/// readiness followed by a system call.
///
/// Every operation is submitted with ``submit(_:completion:)`` (or, for a
/// connection's receive and send, `submit(_:operation:)`), which tags its
/// submission queue entry (SQE) with a fresh token; ``wait(timeout:)``
/// submits everything queued and waits in one `io_uring_enter`, then runs
/// what each CQE's token names: the stream's receive or send handling, or
/// the operation's completion. Operations are counted per
/// descriptor so that ``closeDescriptor(_:)`` closes a descriptor only
/// once every operation on it has delivered its final CQE: no completion
/// can reach a closed descriptor, or a new one that reused its number.
///
/// Loop thread only, except ``waker``.
package final class URingEngine {
    // MARK: Any thread

    /// Wakes ``wait(timeout:)`` from any thread: an eventfd the ring polls.
    package let waker: Waker

    // MARK: Loop thread only

    /// The ring. Exposed for registrations (provided buffer rings).
    @exclusivity(unchecked) package var ring = io_uring()
    /// How the ring was set up (which task-running mode the kernel took).
    package let setup: URingSetup

    /// What runs for every CQE of an operation.
    typealias Completion = (_ result: Int32, _ flags: UInt32) -> Void

    /// What a CQE is for. A stream's receive and send, the operations of
    /// every message, are named by their stream and dispatched by a
    /// switch; everything else (accepts, polls, connects, the waker, the
    /// delivery of parked results) carries a closure. A closure per stream
    /// operation cost, on every message, a retain of its context, an
    /// unowned-to-strong retain of the engine, a thunk and the releases,
    /// and its context was one more heap object per connection to bring
    /// into cache.
    enum Operation {
        /// A CQE of the stream's multishot receive.
        case receive(URingStream)
        /// The CQE of the stream's send (SEND or SENDMSG).
        case send(URingStream)
        /// Any other operation: `completion` runs for each of its CQEs.
        case general(Completion)
    }

    /// The operations in flight, in reusable slots: a token is its slot's
    /// index plus one in the low 32 bits and a submission count in the high
    /// ones, so a lookup is an array index and a check, with no hashing (a
    /// dictionary by token hashed twice per message), and a late CQE of a
    /// finished operation never matches the slot's next owner.
    ///
    /// The slots of one descriptor are chained (doubly linked, by index),
    /// so finding what to cancel on a descriptor, and whether anything is
    /// still in flight on it, needs no per-descriptor collection: the list
    /// of tokens this replaced was an object fetched, retained and edited
    /// twice per message.
    private struct OperationTable {
        /// One operation, or a free slot (token 0).
        private struct Slot {
            var token: UInt64 = 0
            /// The descriptor the operation counts on, or -1 (none, or
            /// forgotten by a synchronous cancellation).
            var descriptor: Int32 = -1
            /// The neighbours in the descriptor's chain, or -1.
            var previous = -1
            var next = -1
            /// The operation; `nil` in a free slot. A field of a concrete
            /// struct, not an array element: stored as an element, the
            /// closure of a `.general` operation is re-abstracted, which
            /// allocates a thunk context on every insert.
            var operation: Operation?
        }

        private var slots: [Slot] = []
        /// The first slot of each descriptor's chain.
        private var firstSlots = FileDescriptorMap<Int>()
        private var freeSlots: [Int] = []
        private var submissions: UInt64 = 0

        /// Stores `operation` on `descriptor` (or -1) and returns its
        /// token, never 0 (0 marks CQEs nobody waits for, those of
        /// cancellations).
        mutating func insert(descriptor: Int32, operation: Operation) -> UInt64 {
            let index: Int
            if let reused = freeSlots.popLast() {
                index = reused
            } else {
                index = slots.count
                slots.append(Slot())
            }
            submissions &+= 1
            let token = (submissions & 0xffff_ffff) << 32 | UInt64(index + 1)
            let first = descriptor >= 0 ? firstSlots[descriptor] : nil
            if descriptor >= 0, first == nil { firstSlots[descriptor] = index }
            // Field by field in place: building a Slot and assigning it
            // copied (retained and released) the operation once more.
            slots.withUnsafeMutableBufferPointer { slots in
                slots[index].token = token
                slots[index].descriptor = descriptor
                slots[index].operation = operation
                // A new operation goes second in an existing chain, so
                // the head stays: on a stream that is the multishot
                // receive, armed for the connection's life, and a send
                // comes and goes without writing the chain-head map
                // (two writes per message, each with its uniqueness
                // check, when sends went first).
                if let first {
                    let second = slots[first].next
                    slots[index].previous = first
                    slots[index].next = second
                    slots[first].next = index
                    if second >= 0 { slots[second].previous = index }
                } else {
                    slots[index].previous = -1
                    slots[index].next = -1
                }
            }
            return token
        }

        /// The slot of `token`, if its operation is still in flight.
        func slot(of token: UInt64) -> Int? {
            let index = Int(token & 0xffff_ffff) - 1
            guard index >= 0, index < slots.count, slots[index].token == token else { return nil }
            return index
        }

        /// The descriptor the operation in `slot` counts on, or -1.
        func descriptor(at slot: Int) -> Int32 { slots[slot].descriptor }

        /// The operation in `slot`.
        func operation(at slot: Int) -> Operation { slots[slot].operation! }

        /// Takes the operation out of `slot` (its descriptor no longer
        /// counts it) and returns it, moved, not copied.
        mutating func remove(at slot: Int) -> Operation {
            unlink(slot)
            freeSlots.append(slot)
            return slots.withUnsafeMutableBufferPointer { slots in
                slots[slot].token = 0
                return slots[slot].operation.take()!
            }
        }

        /// Stops counting the operation in `slot` on its descriptor; it
        /// stays in the table for its CQE.
        mutating func unlink(_ index: Int) {
            // The fields are read one by one: a copy of the slot would
            // retain and release its operation.
            let descriptor = slots[index].descriptor
            guard descriptor >= 0 else { return }
            let (previous, next) = (slots[index].previous, slots[index].next)
            if previous < 0 { firstSlots[descriptor] = next >= 0 ? next : nil }
            slots.withUnsafeMutableBufferPointer { slots in
                if previous >= 0 { slots[previous].next = next }
                if next >= 0 { slots[next].previous = previous }
                slots[index].descriptor = -1
                slots[index].previous = -1
                slots[index].next = -1
            }
        }

        /// Whether an operation counts on `fd`.
        func hasOperations(on fd: Int32) -> Bool { firstSlots[fd] != nil }

        /// The tokens of the operations counting on `fd`.
        func tokens(on fd: Int32) -> [UInt64] {
            var found: [UInt64] = []
            var index = firstSlots[fd] ?? -1
            while index >= 0 {
                found.append(slots[index].token)
                index = slots[index].next
            }
            return found
        }

        /// Drops every operation.
        mutating func removeAll() {
            self = OperationTable()
        }
    }

    /// Operations in flight, by token.
    @exclusivity(unchecked) private var operations = OperationTable()
    /// Descriptors ``closeDescriptor(_:)`` was asked to close while
    /// operations on them were still in flight.
    @exclusivity(unchecked) private var closingDescriptors: Set<Int32> = []
    /// `false` while a ring created disabled (single issuer) has not been
    /// enabled by the loop's thread yet.
    @exclusivity(unchecked) private var enabled: Bool
    @exclusivity(unchecked) private var closed = false
    /// One CQE copied out of the ring.
    private typealias CompletedCQE = (token: UInt64, result: Int32, flags: UInt32)
    /// Reused between turns: the CQEs of one batch, copied out of the ring.
    /// A fixed block rather than an array: appending to an array tests its
    /// uniqueness for every CQE, and iterating it retains it.
    private let batch = UnsafeMutablePointer<CompletedCQE>.allocate(capacity: URingEngine.batchSize)
    /// The next CQE of ``batch`` to run, and how many it holds.
    @exclusivity(unchecked) private var batchNext = 0
    @exclusivity(unchecked) private var batchCount = 0
    /// The CQEs in ``batch`` emptied the ring: once they ran, the drain is
    /// over.
    @exclusivity(unchecked) private var batchWasShort = false
    /// Reused between turns: where `io_uring_peek_batch_cqe` puts pointers.
    private let cqePointers = UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>.allocate(
        capacity: URingEngine.batchSize)

    // MARK: Watch, accept, connect state (loop thread only)

    /// Descriptors watched through ``watch(_:interest:handler:)``.
    @exclusivity(unchecked) var registry = DescriptorRegistry()
    /// Each watched descriptor's armed poll, if one is armed.
    @exclusivity(unchecked) var armedPolls: [Int32: ArmedOperation] = [:]
    /// Accepts in progress, by listening descriptor.
    @exclusivity(unchecked) var accepts: [Int32: AcceptState] = [:]
    /// Connects in progress, by socket.
    @exclusivity(unchecked) var connects: [Int32: ArmedOperation] = [:]
    /// The last serial handed out by ``nextSerial()``.
    @exclusivity(unchecked) private var lastSerial: UInt64 = 0
    /// The `accept4` wrapper used after a failed multishot accept (and
    /// for every accept once replaced; see ``acceptCall``).
    var acceptSystemCall: (Int32) throws(SystemError) -> (descriptor: Int32, peer: SocketAddress)? = Socket.accept
    /// Whether tests replaced ``acceptCall``.
    var acceptCallReplaced = false

    // MARK: Stream state (loop thread only)

    /// The buffer ring and each descriptor's receive and send (see
    /// URingEngine+Stream).
    package let streams = URingStreams()

    /// CQEs copied out per batch: the CQ ring is drained in batches of this
    /// many until empty or a batch comes back short.
    private static let batchSize = 256
    /// SQ ring entries; the SQ is submitted early when it fills up, so this
    /// bounds only how many SQEs one turn batches into one system call.
    private static let submissionEntries: UInt32 = 256
    /// CQ ring entries: many multishot operations (receives on every
    /// connection) can complete in one turn; the kernel keeps overflowed
    /// CQEs (IORING_FEAT_NODROP, 5.5) but overflow is slow, so make room.
    private static let completionEntries: UInt32 = 4096

    /// Creates a ring (see ``URingSetup``) and arms the waker's poll.
    ///
    /// - Throws: ``SystemError`` when the kernel refuses the ring or the
    ///   eventfd.
    package init() throws {
        var ring = io_uring()
        do {
            setup = try URingSetup.makeRing(
                &ring, entries: Self.submissionEntries, completionEntries: Self.completionEntries)
        } catch {
            cqePointers.deallocate()
            batch.deallocate()
            throw error
        }
        self.ring = ring
        enabled = setup != .singleIssuer
        do {
            waker = try Waker()
        } catch {
            io_uring_queue_exit(&self.ring)
            cqePointers.deallocate()
            batch.deallocate()
            throw error
        }
        armWaker()
    }

    deinit {
        close()
        // Freed here, not in close: a completion may close the engine
        // while its batch is being run.
        batch.deallocate()
    }

    // MARK: Submitting and cancelling

    /// Gets an SQE (submitting what is queued to make room when the SQ is
    /// full), lets `prepare` fill it, tags it with a fresh token as its
    /// user data and records `completion`, which runs from
    /// ``wait(timeout:)`` for every CQE of that token: once, or for a
    /// multishot operation until a CQE without `IORING_CQE_F_MORE`, after
    /// which the record is dropped. The operation counts as in flight on
    /// the SQE's `fd` (every operation here names a plain descriptor, no
    /// registered files) until that final CQE. Loop thread only.
    @discardableResult
    package func submit(
        _ prepare: (UnsafeMutablePointer<io_uring_sqe>) -> Void,
        completion: @escaping (_ result: Int32, _ flags: UInt32) -> Void
    ) -> UInt64 {
        submit(prepare, operation: .general(completion))
    }

    /// ``submit(_:completion:)`` for an operation dispatched by kind (a
    /// stream's receive or send) instead of by closure.
    @discardableResult
    func submit(_ prepare: (UnsafeMutablePointer<io_uring_sqe>) -> Void, operation: Operation) -> UInt64 {
        let sqe = nextSQE()
        prepare(sqe)
        let token = operations.insert(descriptor: sqe.pointee.fd, operation: operation)
        io_uring_sqe_set_data64(sqe, token)
        return token
    }

    /// Submits `IORING_OP_ASYNC_CANCEL` for the operation of `token`. Its
    /// completion keeps running for the CQEs still to come (usually one,
    /// with `-ECANCELED`, or the result if it completed first) and is
    /// dropped after the final one. A finished token is ignored. Loop
    /// thread only.
    package func cancel(_ token: UInt64) {
        guard operations.slot(of: token) != nil else { return }
        let sqe = nextSQE()
        io_uring_prep_cancel64(sqe, token, 0)
        // Nobody waits for the cancellation's own CQE.
        io_uring_sqe_set_data64(sqe, 0)
    }

    /// A number never returned before: completions capture it and compare
    /// it with the state of their descriptor, so a completion of an
    /// operation that was cancelled, replaced or belongs to a previous
    /// owner of the number is recognised as stale.
    func nextSerial() -> UInt64 {
        lastSerial += 1
        return lastSerial
    }

    /// Cancels the operation of `token` and waits until the kernel has
    /// finished it and let go of its file (`IORING_REGISTER_SYNC_CANCEL`,
    /// Linux 6.0, then `io_uring_get_events`, which runs the deferred task
    /// work that completes the request). The operation then no longer
    /// counts as in flight on its descriptor, which ``closeDescriptor(_:)``
    /// closes at once; its CQE, still in the ring, reaches its completion
    /// on the next wait, which must treat it as stale. For what must be
    /// gone before the caller goes on: a listener's accept, since a
    /// listening socket keeps its address (an abstract UNIX name above
    /// all) until its last reference is dropped, and a port that stopped
    /// listening may listen again on the same address at once. Two system
    /// calls (three when the operation was not submitted yet), so not for
    /// the hot path. Falls back to ``cancel(_:)`` if the kernel refuses.
    func cancelSynchronously(_ token: UInt64) {
        guard operations.slot(of: token) != nil else { return }
        // An SQE still queued is unknown to the kernel: submit it first.
        if io_uring_sq_ready(&ring) > 0 { submitQueued() }
        var registration = io_uring_sync_cancel_reg()
        registration.addr = token
        registration.fd = -1
        // No timeout: a cancelled accept or poll finishes at once.
        registration.timeout = __kernel_timespec(tv_sec: -1, tv_nsec: -1)
        let result = io_uring_register_sync_cancel(&ring, &registration)
        guard result >= 0 || result == -ENOENT || result == -EALREADY else { return cancel(token) }
        _ = io_uring_get_events(&ring)
        // CQEs run only from wait, so the slot is still this operation's.
        // It stays for its CQE but no longer keeps its descriptor open.
        if let slot = operations.slot(of: token) { operations.unlink(slot) }
    }

    /// Number of operations in flight on `fd`.
    package func operationsInFlight(on fd: Int32) -> Int {
        operations.tokens(on: fd).count
    }

    /// An SQE to fill. When the SQ is full, what is queued is submitted
    /// first (an early `io_uring_enter`), which frees every entry.
    private func nextSQE() -> UnsafeMutablePointer<io_uring_sqe> {
        if let sqe = io_uring_get_sqe(&ring) { return sqe }
        enableIfNeeded()
        let submitted = io_uring_submit(&ring)
        guard let sqe = io_uring_get_sqe(&ring) else {
            // Submitting empties the SQ unless the kernel refused the
            // batch, which only a broken ring does.
            preconditionFailure("io_uring SQ still full after submitting: \(submitted)")
        }
        return sqe
    }

    /// Submits the queued SQEs now, outside ``wait(timeout:)``: only for
    /// a switch that must reach the kernel before the caller goes on.
    func submitQueued() {
        enableIfNeeded()
        _ = io_uring_submit(&ring)
    }

    /// Enables a ring created disabled, making the calling thread (the
    /// loop's) its single issuer.
    private func enableIfNeeded() {
        guard !enabled else { return }
        enabled = true
        // liburing 2.3 declares io_uring_enable_rings but does not export
        // it; the raw registration is the same call. A failure leaves the
        // ring disabled, and the next io_uring_enter reports it (EBADFD).
        _ = io_uring_register(UInt32(ring.ring_fd), UInt32(IORING_REGISTER_ENABLE_RINGS), nil, 0)
    }

    // MARK: Closing descriptors

    /// Cancels every operation on `fd` (watch, accept, connect, receive,
    /// send) and forgets the watch, accept and connect state; completions
    /// still to come see their operation abandoned. Loop thread only.
    package func unwatch(_ fd: Int32) {
        registry.remove(fd)
        armedPolls[fd] = nil
        forgetStream(fd)
        accepts[fd] = nil
        connects[fd] = nil
        for token in operations.tokens(on: fd) { cancel(token) }
    }

    /// Unwatches `fd` and closes it once no operation on it is in flight:
    /// at once when none is, else after the final CQE of the last one, so
    /// no completion reaches a closed or reused descriptor. The number
    /// stays taken until then. Loop thread only.
    package func closeDescriptor(_ fd: Int32) {
        unwatch(fd)
        if !operations.hasOperations(on: fd) {
            Descriptors.close(fd)
        } else {
            closingDescriptors.insert(fd)
        }
    }

    // MARK: Waiting

    /// Submits every queued SQE and waits for at least one CQE, up to
    /// `timeout` seconds (`nil`: no limit), in ONE
    /// `io_uring_submit_and_wait_timeout`; then runs the completion of
    /// every CQE in the ring. Loop thread only.
    ///
    /// Called from inside a completion (a nested iterate) while CQEs of the
    /// outer batch still wait to run, it does not block: those are ready
    /// work the kernel no longer counts.
    ///
    /// - Throws: ``SystemError`` when `io_uring_enter` fails for another
    ///   reason than the timeout or a signal.
    package func wait(timeout: Double?) throws {
        enableIfNeeded()
        var cqe: UnsafeMutablePointer<io_uring_cqe>? = nil
        let result: Int32
        if let timeout = batchNext < batchCount ? 0 : timeout {
            var limit = Self.timespec(timeout)
            result = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &limit, nil)
        } else {
            result = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, nil, nil)
        }
        // ETIME: the timeout expired; EINTR: a signal (the loop turns
        // again); EAGAIN/EBUSY: the kernel is short of memory or the CQ
        // overflowed, and draining the CQ is what helps.
        if result < 0, ![ETIME, EINTR, EAGAIN, EBUSY].contains(-result) {
            // EEXIST: a single-issuer ring entered from another thread than
            // the one that first turned the loop (the kernel's rule since
            // IORING_SETUP_SINGLE_ISSUER, Linux 6.0); name the cause.
            let call =
                -result == EEXIST ? "io_uring_enter (the ring belongs to the loop's first thread)" : "io_uring_enter"
            throw SystemError(errno: -result, call: call)
        }
        // Whether the last batch emptied the ring is out of date after a
        // wait: the drain looks at the ring again.
        batchWasShort = false
        drainCompletions()
    }

    /// `timeout` as a kernel timespec. Negative means now; the seconds are
    /// clamped to a billion (31 years) because converting a larger Double
    /// (or infinity) to Int64 traps, and no timer is that far.
    static func timespec(_ timeout: Double) -> __kernel_timespec {
        let bounded = min(max(timeout, 0), 1e9)
        let seconds = bounded.rounded(.down)
        return __kernel_timespec(tv_sec: Int64(seconds), tv_nsec: Int64((bounded - seconds) * 1e9))
    }

    /// Runs the completions of every CQE in the ring, batch by batch. Each
    /// batch is copied out and the CQ advanced before any completion runs,
    /// so completions may submit (and even fill the SQ) freely.
    ///
    /// The batch is engine state, not a local: a completion that runs the
    /// loop again (a nested iterate) continues the same batch before it
    /// takes new CQEs, so completions run in CQE order even then (a
    /// nested drain that took new CQEs first delivered a stream's later
    /// bytes before earlier ones still waiting in the outer batch).
    private func drainCompletions() {
        let capacity = UInt32(Self.batchSize)
        while true {
            // A completion may close the engine: nothing runs after that.
            while batchNext < batchCount, !closed {
                let (token, result, flags) = batch[batchNext]
                batchNext += 1
                complete(token, result: result, flags: flags)
            }
            if batchWasShort || closed {
                batchWasShort = false
                return
            }
            let count = io_uring_peek_batch_cqe(&ring, cqePointers, capacity)
            guard count > 0 else { return }
            var copied = 0
            for index in 0..<Int(count) {
                guard let cqe = cqePointers[index] else { continue }
                batch[copied] = (cqe.pointee.user_data, cqe.pointee.res, cqe.pointee.flags)
                copied += 1
            }
            io_uring_cq_advance(&ring, count)
            (batchNext, batchCount) = (0, copied)
            // A short batch emptied the ring: run it, then stop.
            batchWasShort = count < capacity
        }
    }

    // Inlined into the drain loop, as the optimizer did before that loop
    // kept its batch in engine state; called out of line it cost about
    // 50 instructions per message (callgrind, io_uring echo).

    /// Runs the completion of `token`; after its final CQE drops the
    /// record and, if the descriptor waits to be closed and this was its
    /// last operation, closes it.
    @inline(__always)
    private func complete(_ token: UInt64, result: Int32, flags: UInt32) {
        guard token != 0, let slot = operations.slot(of: token) else { return }
        guard flags & IORING_CQE_F_MORE == 0 else { return run(operations.operation(at: slot), result, flags) }
        let descriptor = operations.descriptor(at: slot)
        run(operations.remove(at: slot), result, flags)
        closeIfIdle(descriptor)
    }

    /// Runs what one CQE of `operation` is for.
    @inline(__always)
    private func run(_ operation: Operation, _ result: Int32, _ flags: UInt32) {
        switch operation {
        case .receive(let stream): receiveCompleted(stream, result: result, flags: flags)
        case .send(let stream): sendCompleted(stream, result: result)
        case .general(let completion): completion(result, flags)
        }
    }

    private func closeIfIdle(_ fd: Int32) {
        guard fd >= 0, !operations.hasOperations(on: fd), closingDescriptors.remove(fd) != nil else { return }
        Descriptors.close(fd)
    }

    // MARK: The waker

    /// Polls the waker's eventfd with a multishot `POLL_ADD`: each wake
    /// produces a CQE (which ends the wait), the eventfd is drained and
    /// the poll re-armed if the kernel ended it.
    private func armWaker() {
        let fd = waker.fileDescriptor
        submit({ sqe in io_uring_prep_poll_multishot(sqe, fd, UInt32(POLLIN)) }) { [unowned self] _, flags in
            guard !closed else { return }
            waker.drain()
            if flags & IORING_CQE_F_MORE == 0 { armWaker() }
        }
    }

    // MARK: Closing

    /// Closes the ring (the kernel cancels what is in flight), the
    /// descriptors waiting for their operations, and the waker. Called
    /// once, when the reactor is done; idempotent.
    package func close() {
        guard !closed else { return }
        closed = true
        closeStreams()
        io_uring_queue_exit(&ring)
        for fd in closingDescriptors { Descriptors.close(fd) }
        closingDescriptors.removeAll()
        operations.removeAll()
        cqePointers.deallocate()
        batchNext = 0
        batchCount = 0
        waker.close()
    }
}

/// An operation armed for a descriptor: its token (to cancel it) and the
/// serial its completion checks (see ``URingEngine/nextSerial()``).
struct ArmedOperation {
    /// The operation's token.
    let token: UInt64
    /// The serial its completion captured.
    let serial: UInt64
}

/// One accept in progress: its handler, the serial of this
/// ``URingEngine/accept(_:handler:)`` and the armed operation.
struct AcceptState {
    /// Distinguishes this accept from a later one on the same descriptor.
    let serial: UInt64
    /// Receives every accepted connection or error.
    let handler: (AcceptResult) -> Void
    /// The armed operation (multishot accept or poll), 0 while none is.
    var token: UInt64
}
