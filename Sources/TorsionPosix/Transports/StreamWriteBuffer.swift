import DequeModule

/// The bytes a stream transport has accepted but the kernel has not yet
/// taken: arrays queued by `write`, handed to the engine in batches of at
/// most one vectored system call each. Counts every byte from `write`
/// until its send completed, which is what producer flow control watches.
/// Reactor thread only.
struct StreamWriteBuffer {
    /// Arrays written and not yet handed to the engine, oldest first.
    private var queued: Deque<[UInt8]> = []
    /// Bytes of the batch the engine is sending.
    private var inFlightBytes = 0
    /// Bytes queued plus bytes in flight.
    private(set) var bufferedBytes = 0

    /// `true` when every byte written was sent.
    var isEmpty: Bool { bufferedBytes == 0 }

    /// `true` while a batch is with the engine.
    var isSending: Bool { inFlightBytes > 0 }

    /// Queues `data`; empty arrays are dropped (they would only cost an
    /// iovec entry).
    mutating func append(_ data: [UInt8]) {
        guard !data.isEmpty else { return }
        queued.append(data)
        bufferedBytes += data.count
    }

    /// The batch the engine is sending, in order; kept here (not made per
    /// send) so that its storage is reused: once the engine let go of it,
    /// taking the next batch allocates nothing.
    private(set) var inFlight: [[UInt8]] = []

    /// Moves the next batch (at most `maximumCount` arrays, in order) to
    /// ``inFlight`` and returns `true`, or returns `false` when nothing is
    /// queued or a batch is already in flight.
    mutating func takeBatch(maximumCount: Int) -> Bool {
        guard !isSending, !queued.isEmpty else { return false }
        let count = min(maximumCount, queued.count)
        if !inFlight.isEmpty { inFlight.removeAll(keepingCapacity: true) }
        for _ in 0..<count {
            let data = queued.removeFirst()
            inFlightBytes += data.count
            inFlight.append(data)
        }
        return true
    }

    /// Counts `byteCount` bytes that the transport handed to the engine
    /// itself, without queueing them (the write-through path): they are in
    /// flight until ``acknowledgeBatch()``. Only when nothing is buffered.
    mutating func beginUnqueuedSend(byteCount: Int) {
        precondition(isEmpty, "an unqueued send would overtake buffered bytes")
        inFlightBytes = byteCount
        bufferedBytes = byteCount
    }

    /// The batch in flight was sent completely: its arrays are released
    /// (the capacity is kept for the next batch).
    mutating func acknowledgeBatch() {
        bufferedBytes -= inFlightBytes
        inFlightBytes = 0
        // The usual batch is one array, and removeLast is far cheaper than
        // the general removeAll(keepingCapacity:).
        if inFlight.count == 1 {
            inFlight.removeLast()
        } else if !inFlight.isEmpty {
            inFlight.removeAll(keepingCapacity: true)
        }
    }

    /// Drops everything, in flight or queued (the connection is gone).
    mutating func removeAll() {
        queued.removeAll()
        inFlight.removeAll()
        inFlightBytes = 0
        bufferedBytes = 0
    }
}
