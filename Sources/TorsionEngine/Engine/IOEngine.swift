/// The seam between the reactor and the operating system's I/O facility.
///
/// The reactor never calls a poller: it asks its engine to watch
/// descriptors, to wait for the next batch of events (dispatching them to
/// the handlers given to ``watch(_:interest:handler:)``), and to be woken
/// from another thread (timers, `callFromThread` and `ReactorFDSet` need
/// no more). Ports, connectors and stream transports use the
/// completion-style operations (``accept(_:handler:)``,
/// ``connect(_:to:completion:)``, ``receive(_:receiver:)``,
/// ``send(_:buffers:descriptors:completion:)``): ``ReadinessEngine``
/// emulates them with a nonblocking syscall on readiness, an io_uring
/// engine submits them natively — the transports above do not know which.
///
/// Loop thread only, except ``waker``.
package protocol IOEngine: AnyObject {
    /// Wakes ``wait(timeout:)`` from any thread.
    var waker: Waker { get }

    /// Watches `fd` for `interest`, calling `handler` with the readiness
    /// (masked to the interest) from ``wait(timeout:)``. A readiness of
    /// ``PollerInterest/invalid`` means the fd was closed while watched; the
    /// handler must unwatch it. Calling it again
    /// for a watched fd changes the interest and handler; an empty interest
    /// stops watching.
    func watch(_ fd: Int32, interest: PollerInterest, handler: @escaping (PollerInterest) -> Void) throws

    /// Stops watching `fd` and cancels every operation pending on it
    /// (receive, send), whose handlers are not called again. Call it before
    /// closing the descriptor.
    func unwatch(_ fd: Int32)

    /// Unwatches `fd` (as ``unwatch(_:)``) and closes it, now or, on an
    /// engine whose operations hold the descriptor (io_uring), once the
    /// last of them has delivered its final completion: no completion may
    /// reach a closed or reused descriptor. The caller forgets the number
    /// at once either way.
    func closeDescriptor(_ fd: Int32)

    /// Number of descriptors watched for users (the waker excluded); zero
    /// after every registration was removed, which tests check for leaks.
    var watchedCount: Int { get }

    /// Waits up to `timeout` seconds (`nil`: until something happens) and
    /// dispatches what became ready. A wake-up through ``waker`` returns.
    func wait(timeout: Double?) throws

    /// Releases the engine's descriptors. Called once, when the reactor is
    /// done; the engine is unusable afterwards.
    func close()

    // MARK: Listening and connecting sockets

    /// Accepts connections on the listening socket `fd`, multishot: every
    /// accepted connection (a nonblocking, close-on-exec descriptor the
    /// handler now owns) or accept error is handed to `handler` from
    /// ``wait(timeout:)`` until ``cancelAccept(_:)``. After an error the
    /// engine tries the next accept in the same turn, so a handler that
    /// frees a descriptor on `EMFILE` gets the pending connection at once.
    /// The handler may cancel (or close the listener) from inside; nothing
    /// more is delivered then.
    ///
    /// - Throws: when the engine cannot take `fd` (select and an fd at or
    ///   above `FD_SETSIZE`); nothing is pending then.
    func accept(_ fd: Int32, handler: @escaping (AcceptResult) -> Void) throws

    /// Stops delivering accepted connections of `fd`; call it before
    /// closing the listener. Unknown descriptors are ignored.
    func cancelAccept(_ fd: Int32)

    /// Connects the nonblocking stream socket `fd` to `address`; the
    /// completion runs once, from ``wait(timeout:)`` (never from inside
    /// this call), with success or the attempt's error (`ECONNREFUSED`,
    /// `ETIMEDOUT`…), unless ``cancelConnect(_:)`` comes first.
    ///
    /// - Throws: what is known at once, with nothing pending: an address
    ///   the socket cannot take, a connect refused on the spot (UNIX
    ///   sockets), or an fd the engine cannot take.
    func connect(
        _ fd: Int32, to address: SocketAddress, completion: @escaping (Result<Void, SystemError>) -> Void
    ) throws

    /// Abandons a connect in progress on `fd` without calling its
    /// completion; call it before closing the socket. Unknown descriptors
    /// are ignored.
    func cancelConnect(_ fd: Int32)

    // MARK: Stream receive and send

    /// Starts receiving from the stream socket `fd`: `receiver` hears
    /// ``StreamReceiver/received(_:)`` from ``wait(timeout:)`` with each
    /// chunk read (one array per read), until ``cancelReceive(_:)``,
    /// ``unwatch(_:)``, or a final ``ReceiveResult/endOfFile`` or
    /// ``ReceiveResult/failed(_:)`` after which receiving stops by itself.
    /// The engine holds `receiver` until then. Calling it while receiving
    /// replaces the receiver.
    ///
    /// - Throws: the engine's refusal of `fd` (for example select with an
    ///   fd ≥ FD_SETSIZE); nothing is registered then.
    func receive(_ fd: Int32, receiver: any StreamReceiver) throws

    /// Stops receiving from `fd`; the receiver is not called again. A send
    /// in progress continues. No-op when not receiving.
    func cancelReceive(_ fd: Int32)

    /// Sends every byte of `buffers`, in order, on the stream socket `fd`,
    /// in as few vectored system calls as possible (one per
    /// ``maximumBuffersPerSend`` buffers when the socket takes them). `descriptors` (at most
    /// ``maximumDescriptorsPerSend``, for UNIX sockets) travel with the
    /// first bytes as SCM_RIGHTS; the caller keeps them open until the
    /// send completed or was cancelled, then closes its copies. One send
    /// per fd at a time: call again only after the previous one completed.
    ///
    /// - Returns: the result when the send finished at once (`completion`
    ///   is then never called), or `nil` when it is in progress:
    ///   `completion` is called later from ``wait(timeout:)``, unless
    ///   ``unwatch(_:)`` cancels it first.
    func send(
        _ fd: Int32, buffers: [[UInt8]], descriptors: [Int32], completion: @escaping (SendResult) -> Void
    ) -> SendResult?

    /// Sends every byte of `bytes` on the stream socket `fd`: the same
    /// contract as ``send(_:buffers:descriptors:completion:)`` with one
    /// buffer and no descriptors. It exists for the common case of a
    /// transport with nothing queued writing one array, which every engine
    /// makes cheaper than a batch: a readiness engine tries `send(2)` at
    /// once and, when the socket takes everything, returns `.sent` without
    /// building a send record or even evaluating `completion`; the io_uring
    /// engine copies a small array into the descriptor's own send buffer,
    /// so the array is free again as soon as this returns.
    ///
    /// `completion` is an autoclosure so that a send that finishes at once
    /// never loads it: a transport's completion is a stored closure, and
    /// reading one out of a mutable property costs a retain and a release
    /// per message.
    func send(_ fd: Int32, bytes: [UInt8], completion: @autoclosure () -> (SendResult) -> Void) -> SendResult?
}

/// The most descriptors one send passes: Linux's SCM_MAX_FD (253), the
/// kernel's limit for one SCM_RIGHTS message.
package let maximumDescriptorsPerSend = 253

/// The most buffers one vectored system call takes: Linux's IOV_MAX
/// (1024). Transports batch their queues by it; longer sends are written
/// in chunks of this many.
package let maximumBuffersPerSend = 1024

extension IOEngine {
    /// Sends `buffers` without descriptors; see
    /// ``IOEngine/send(_:buffers:descriptors:completion:)``.
    package func send(_ fd: Int32, buffers: [[UInt8]], completion: @escaping (SendResult) -> Void) -> SendResult? {
        send(fd, buffers: buffers, descriptors: [], completion: completion)
    }
}

/// Whom an engine hands what it reads from a stream descriptor: the
/// stream transport itself. An object, not a closure, because it is called
/// once per read: a closure capturing its transport `unowned` cost a
/// context retain, a strong retain of the transport and a thunk per call.
package protocol StreamReceiver: AnyObject {
    /// One delivery of ``IOEngine/receive(_:receiver:)``: bytes, or the
    /// final end of file or failure. Loop thread only.
    func received(_ result: ReceiveResult)
}

/// A ``StreamReceiver`` that calls a closure: for code that receives
/// without a transport (engine tests, tools).
package final class ClosureStreamReceiver: StreamReceiver {
    private let handler: (ReceiveResult) -> Void

    /// A receiver that passes every delivery to `handler`.
    package init(_ handler: @escaping (ReceiveResult) -> Void) {
        self.handler = handler
    }

    package func received(_ result: ReceiveResult) {
        handler(result)
    }
}

extension IOEngine {
    /// Receives from `fd` into `handler`: ``IOEngine/receive(_:receiver:)``
    /// through a ``ClosureStreamReceiver``.
    package func receive(_ fd: Int32, handler: @escaping (ReceiveResult) -> Void) throws {
        try receive(fd, receiver: ClosureStreamReceiver(handler))
    }
}

/// One delivery of ``IOEngine/receive(_:receiver:)``.
package enum ReceiveResult {
    /// Bytes read, never empty; the array is the receiver's to keep.
    case data([UInt8])
    /// The peer closed its writing half; receiving has stopped.
    case endOfFile
    /// Reading failed (for example `ECONNRESET`, usually a
    /// ``SystemError``); receiving has stopped.
    case failed(any Error)
}

/// The outcome of ``IOEngine/send(_:buffers:completion:)``.
package enum SendResult {
    /// Every byte was written; the count is their total.
    case sent(Int)
    /// Writing failed (for example `EPIPE`, `ECONNRESET`); some bytes may
    /// have been written before. Usually a ``SystemError``; also the
    /// engine's refusal to watch the descriptor.
    case failed(any Error)
}
