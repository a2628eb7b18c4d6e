/// One client connection of a load run (for `connect`, one client slot
/// whose socket changes every cycle). Its buffers are allocated once, when
/// the run starts, so the hot path allocates nothing.
///
/// Load generator thread only.
final class LoadConnection {
    enum State {
        /// No socket (a `connect` slot between cycles, or after the run).
        case idle
        /// Non-blocking connect in progress; waiting for writability.
        case connecting
        /// Connected: writing and reading back the stream.
        case open
        /// Counted in the run's errors and closed; takes no further part.
        case failed
    }

    /// The connection's number, which selects its payload stream.
    let index: Int
    /// Where its stream starts in the payload table.
    let shift: Int
    var state = State.idle
    var fd: Int32 = -1
    /// Bumped for every new socket, and packed beside the index in the
    /// epoll data, so reports for a closed socket are ignored.
    var generation: UInt32 = 0
    /// Whether the epoll registration includes EPOLLOUT.
    var watchingWrites = false
    /// Whether one message has completed (the ready phase's round trip).
    var ready = false

    /// Stream offset added to every position: the cycle count for
    /// `connect`, so each cycle sends a different byte; 0 otherwise.
    var base = 0
    /// Bytes written, bytes read back and verified, and bytes queued.
    var sent = 0
    var received = 0
    var queued = 0
    /// Messages completed on this socket.
    var completed = 0
    /// When the socket's connect started (the `connect` latency origin).
    var connectStart: UInt64 = 0
    /// Queue time of message `m` at `m % pipeline`, in nanoseconds.
    let queueTimes: UnsafeMutablePointer<UInt64>
    let pipeline: Int

    init(index: Int, pipeline: Int) {
        self.index = index
        self.pipeline = pipeline
        shift = LoadPattern.shift(connection: index)
        queueTimes = .allocate(capacity: pipeline)
        queueTimes.initialize(repeating: 0, count: pipeline)
    }

    deinit { queueTimes.deallocate() }

    /// The epoll data for the current socket.
    var token: UInt64 { UInt64(UInt32(truncatingIfNeeded: index)) | UInt64(generation) << 32 }

    /// Whether bytes it queued have not all come back yet.
    var outstanding: Bool {
        switch state {
        case .connecting: true
        case .open: received < queued
        case .idle, .failed: false
        }
    }
}
