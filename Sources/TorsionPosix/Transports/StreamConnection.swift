import Glibc
import TorsionCore

/// One connected stream socket, TCP or UNIX: the transport every backend
/// shares (Twisted's `tcp.Connection`). It asks the reactor's engine to
/// receive and to send and never calls read, write or poll itself, so the
/// same code runs over readiness pollers and over completion engines.
///
/// Writes are queued in a ``StreamWriteBuffer`` and written through at
/// once; a registered producer is paused above ``highWaterMark`` bytes
/// buffered and resumed at ``lowWaterMark``. The connection ends exactly
/// once: the descriptor is closed, the protocol hears
/// `connectionLost(reason:)`, then the owner's `onLost`, and the reactor
/// and this transport drop their references to the protocol.
///
/// Reactor thread only, like everything attached to a reactor.
public class StreamConnection: HalfCloseableTransport, StreamReceiver {
    /// Bytes buffered above which a streaming producer is paused: 64 KiB,
    /// Twisted's `bufferSize`.
    public static let highWaterMark = 65_536
    /// Bytes buffered at or below which a paused streaming producer is
    /// resumed: a quarter of the high mark, so the producer refills the
    /// pipe before it runs dry without flapping around one threshold.
    public static let lowWaterMark = 16_384

    /// The lifecycle. Transitions only forward.
    enum State {
        /// Made, ``start(protocol:onLost:)`` not called yet.
        case created
        /// Reading and writing.
        case connected
        /// ``loseConnection()`` called: flushing, then closing.
        case disconnecting
        /// Descriptor closed; `connectionLost` delivered or about to be.
        case disconnected
    }

    // MARK: Reactor thread only

    // Stored properties are declared in the order a message uses them, the
    // ones every read and write touches first: a class keeps its fields in
    // declaration order, so these share the object's first cache lines.
    // With a thousand connections the objects are cold when their message
    // arrives: the same instructions then take about twice the user time
    // per message as with 64, the difference being cache misses.

    /// The reactor whose engine does the I/O; it owns ``fileDescriptor``.
    let reactor: Reactor
    /// The reactor's engine, held here as well: reached through
    /// ``reactor`` it was retained and released around every call.
    private let engine: any IOEngine
    /// The connected socket; closed when the connection ends.
    let fileDescriptor: Int32

    @exclusivity(unchecked) private(set) var state = State.created
    /// The protocol, until it heard `connectionLost`.
    @exclusivity(unchecked) private var connectedProtocol: Protocol?
    /// Written bytes not yet taken by the kernel.
    @exclusivity(unchecked) private var writeBuffer = StreamWriteBuffer()
    /// Duplicates of descriptors to pass (SCM_RIGHTS) with the next bytes
    /// written; ours to close.
    @exclusivity(unchecked) private var queuedDescriptors: [Int32] = []
    /// ``loseWriteConnection()`` was called: send FIN after the buffer.
    @exclusivity(unchecked) private var writeCloseRequested = false
    /// FIN was sent.
    @exclusivity(unchecked) private var writeClosed = false
    /// ``pauseProducing()`` stopped reading.
    @exclusivity(unchecked) private var readingPaused = false
    /// The peer's end of file arrived (half-closeable protocols only).
    @exclusivity(unchecked) private var readClosed = false
    /// The registered producer, with its kind and whether we paused it.
    @exclusivity(unchecked) private var producerIsStreaming = false
    @exclusivity(unchecked) private var producerPaused = false
    @exclusivity(unchecked) private var producer: (any Producer)?
    /// Asks a pull producer for more on the next turn (never more than one).
    @exclusivity(unchecked) private var pullRequest: DelayedCall?
    /// The descriptors riding with the batch in flight; ours to close once
    /// it completed.
    @exclusivity(unchecked) private var inFlightDescriptors: [Int32] = []
    /// The reason `connectionLost` will receive, while its delivery waits
    /// for the next turn, and the delayed call that delivers it.
    @exclusivity(unchecked) private var pendingLoss: (reason: Failure, call: DelayedCall)?
    /// The owner's bookkeeping, run once after `connectionLost`.
    @exclusivity(unchecked) private var onLost: ((Failure) -> Void)?
    /// This end's address, as the socket reported it.
    public let host: any Address
    /// The other end's address.
    public let peer: any Address

    /// Wraps `descriptor`; ``Reactor/makeStreamConnection(descriptor:host:peer:)``
    /// is the way to make one.
    init(reactor: Reactor, descriptor: Int32, host: SocketAddress, peer: SocketAddress) {
        self.reactor = reactor
        self.engine = reactor.engine
        self.fileDescriptor = descriptor
        self.host = host.address
        self.peer = peer.address
    }

    /// Bytes written and not yet taken by the kernel (what the water marks
    /// are compared with).
    var bufferedByteCount: Int { writeBuffer.bufferedBytes }

    /// `true` once ``loseConnection()`` or ``abortConnection()`` was called
    /// or the connection ended.
    public var disconnecting: Bool { state == .disconnecting || state == .disconnected }

    // MARK: Starting

    /// Starts receiving and attaches `protocol` (``Protocol/makeConnection(_:)``,
    /// which calls `connectionMade`). `onLost` runs once, right after the
    /// protocol's `connectionLost(reason:)`, for the owner's bookkeeping
    /// (a connector tells its factory). When the engine refuses the
    /// descriptor the protocol hears `connectionMade`, then
    /// `connectionLost` with the refusal. Reactor thread only, once.
    func start(protocol: Protocol, onLost: @escaping (Failure) -> Void) {
        reactor.assertInIOThread()
        precondition(state == .created, "a stream connection is started once")
        state = .connected
        connectedProtocol = `protocol`
        self.onLost = onLost
        var refusal: (any Error)?
        do {
            if !readingPaused { try startReceiving() }
        } catch {
            refusal = error
        }
        `protocol`.makeConnection(self)
        if let refusal {
            lose(Failure(refusal), later: false)
        } else {
            flush()
        }
    }

    /// The engine holds this connection as its receiver until receiving
    /// stops; the descriptor is closed before `connectionLost`, which ends
    /// that hold, so no cycle outlives the connection.
    private func startReceiving() throws {
        try engine.receive(fileDescriptor, receiver: self)
    }

    // MARK: Writing

    /// Queues `data` and writes it through at once when nothing else is
    /// waiting. Ignored after the connection ended or its writing half was
    /// closed. Reactor thread only.
    public func write(_ data: [UInt8]) {
        reactor.assertInIOThread()
        guard acceptsWrites else { return }
        if writeBuffer.isEmpty, queuedDescriptors.isEmpty, !data.isEmpty,
            state == .connected || state == .disconnecting
        {
            return writeThrough(data)
        }
        writeBuffer.append(data)
        flush()
        pauseProducerAboveHighWater()
    }

    /// Queues every buffer and writes them with one vectored system call
    /// (per IOV_MAX buffers). Ignored after the connection ended. Reactor
    /// thread only.
    public func writeSequence(_ data: [[UInt8]]) {
        reactor.assertInIOThread()
        guard acceptsWrites else { return }
        for chunk in data { writeBuffer.append(chunk) }
        flush()
        pauseProducerAboveHighWater()
    }

    /// Hands `data` to the engine directly, bypassing the queue: nothing
    /// is buffered, so nothing can be overtaken. An echo-sized write then
    /// finishes inside a readiness engine with no bookkeeping at all, and
    /// the io_uring engine copies it into the descriptor's send buffer (the
    /// per-message cost of queueing and batching was most of a loop's user
    /// time). The bytes are counted as buffered only when the send is left
    /// in flight: an engine reports completions from its wait, never from
    /// inside `send`, so nothing can observe the count before it is made.
    private func writeThrough(_ data: [UInt8]) {
        switch engine.send(fileDescriptor, bytes: data, completion: sendCompletion) {
        case nil:
            writeBuffer.beginUnqueuedSend(byteCount: data.count)
            pauseProducerAboveHighWater()
        case .sent?:
            bufferDrained()
        case .failed(let error)?:
            sendFailed(error)
        }
    }

    private var acceptsWrites: Bool {
        state != .disconnected && !writeCloseRequested
    }

    /// Hands queued batches to the engine until one is in progress or the
    /// buffer is empty, resumes a paused producer once the buffer is low,
    /// then does what an empty buffer allows.
    private func flush() {
        guard state == .connected || state == .disconnecting else { return }
        while writeBuffer.takeBatch(maximumCount: maximumBuffersPerSend) {
            inFlightDescriptors = queuedDescriptors
            queuedDescriptors = []
            // No local copy of the batch: when the send completes, the
            // buffer's reference must be the only one, so acknowledging it
            // keeps its storage instead of allocating anew.
            let result = engine.send(
                fileDescriptor, buffers: writeBuffer.inFlight, descriptors: inFlightDescriptors,
                completion: sendCompletion)
            guard let result else { break }
            guard handleSendResult(result) else { return }
        }
        resumeProducerBelowLowWater()
        bufferDrained()
    }

    /// Made once, not per send: the hot path allocates no closure.
    ///
    /// Every closure a connection hands out captures it `unowned`, never
    /// `weak`: a weak reference gives the object a side table, and then
    /// each retain and release of it takes the slow path (a visible share
    /// of the CPU per message). It is safe because the reactor holds every
    /// connection until `connectionLost` was delivered, and by then the
    /// descriptor was closed, which drops the engine's closures, and the
    /// connection's delayed calls were cancelled or ran.
    private lazy var sendCompletion: (SendResult) -> Void = { [unowned self] result in sendCompleted(result) }

    private func sendCompleted(_ result: SendResult) {
        guard handleSendResult(result) else { return }
        flush()
    }

    /// Records a finished send; `false` when it failed and the connection
    /// is lost. (Losses found while flushing are delivered on the next
    /// turn: flushing runs inside the protocol's own `write` calls.)
    private func handleSendResult(_ result: SendResult) -> Bool {
        closeDescriptors(&inFlightDescriptors)
        switch result {
        case .sent:
            writeBuffer.acknowledgeBatch()
            return true
        case .failed(let error):
            sendFailed(error)
            return false
        }
    }

    /// A send failed: the connection is lost, delivered on the next turn.
    private func sendFailed(_ error: any Error) {
        lose(Failure(ConnectionLost("\(error)")), later: true)
    }

    /// Everything written was sent: ask a pull producer for more, finish a
    /// half-close or a ``loseConnection()``.
    private func bufferDrained() {
        guard state == .connected || state == .disconnecting, writeBuffer.isEmpty else { return }
        if producer != nil, !producerIsStreaming, pullRequest == nil {
            // On the next turn, not now: a producer that writes at once
            // would otherwise recurse through write and flush without end.
            pullRequest = reactor.callLater(0) { [unowned self] in
                pullRequest = nil
                (producer as? any PullProducer)?.resumeProducing()
            }
        }
        if writeCloseRequested, !writeClosed {
            closeWriteHalf()
        }
        if state == .disconnecting, producer == nil {
            lose(Failure(ConnectionDone()), later: true)
        }
    }

    // MARK: Producers

    /// Attaches `producer`: a streaming one (a ``PushProducer``) is paused
    /// above ``highWaterMark`` bytes buffered and resumed at
    /// ``lowWaterMark``; a pull one is asked for data now and each time
    /// the buffer empties. After the connection ended the producer is told
    /// to stop at once. Reactor thread only.
    ///
    /// - Throws: ``ProducerAlreadyRegisteredError`` when one is registered.
    public func registerProducer(_ producer: any Producer, streaming: Bool) throws {
        reactor.assertInIOThread()
        guard self.producer == nil else { throw ProducerAlreadyRegisteredError() }
        if state == .disconnected {
            producer.stopProducing()
            return
        }
        self.producer = producer
        producerIsStreaming = streaming
        producerPaused = false
        if !streaming { (producer as? any PullProducer)?.resumeProducing() }
    }

    /// Detaches the producer; a pending ``loseConnection()`` completes once
    /// the buffer is empty. Reactor thread only.
    public func unregisterProducer() {
        reactor.assertInIOThread()
        guard producer != nil else { return }
        producer = nil
        producerPaused = false
        cancelPullRequest()
        if state == .disconnecting, writeBuffer.isEmpty {
            lose(Failure(ConnectionDone()), later: true)
        }
    }

    private func pauseProducerAboveHighWater() {
        guard producerIsStreaming, !producerPaused, writeBuffer.bufferedBytes > Self.highWaterMark,
            let producer = producer as? any PushProducer
        else { return }
        producerPaused = true
        producer.pauseProducing()
    }

    private func resumeProducerBelowLowWater() {
        guard producerIsStreaming, producerPaused, writeBuffer.bufferedBytes <= Self.lowWaterMark,
            let producer = producer as? any PushProducer
        else { return }
        producerPaused = false
        producer.resumeProducing()
    }

    private func cancelPullRequest() {
        if let pullRequest, pullRequest.isActive { try? pullRequest.cancel() }
        pullRequest = nil
    }

    // MARK: Reading

    /// Stops reading until ``resumeProducing()`` (the transport as a
    /// producer of received data). Reactor thread only.
    public func pauseProducing() {
        reactor.assertInIOThread()
        guard !readingPaused else { return }
        readingPaused = true
        if state == .connected { engine.cancelReceive(fileDescriptor) }
    }

    /// Reads again after ``pauseProducing()``. Reactor thread only.
    public func resumeProducing() {
        reactor.assertInIOThread()
        guard readingPaused else { return }
        readingPaused = false
        guard state == .connected, !readClosed else { return }
        do {
            try startReceiving()
        } catch {
            lose(Failure(error), later: true)
        }
    }

    /// Twisted's `stopProducing` on a transport: ``loseConnection()``.
    public func stopProducing() {
        loseConnection()
    }

    /// What the engine read: bytes for the protocol, or the end of the
    /// reading half. Reactor thread only, called by the engine.
    package func received(_ result: ReceiveResult) {
        guard state == .connected || state == .disconnecting else { return }
        switch result {
        case .data(let bytes):
            connectedProtocol?.dataReceived(bytes)
        case .endOfFile:
            readConnectionLost()
        case .failed(let error):
            lose(Failure(ConnectionLost("\(error)")), later: false)
        }
    }

    /// The peer sent FIN: a ``HalfCloseableProtocol`` hears
    /// `readConnectionLost` and may keep writing; any other protocol loses
    /// the connection with ``ConnectionDone``. When our writing half is
    /// closed too, nothing can happen any more and the connection ends.
    private func readConnectionLost() {
        readClosed = true
        guard let halfCloseable = connectedProtocol as? any HalfCloseableProtocol else {
            return lose(Failure(ConnectionDone()), later: false)
        }
        halfCloseable.readConnectionLost()
        if writeClosed { lose(Failure(ConnectionDone()), later: false) }
    }

    // MARK: Closing

    /// Closes the connection once every written byte was sent and a
    /// registered producer unregistered; stops reading meanwhile. The
    /// protocol then hears ``ConnectionDone``. Reactor thread only.
    public func loseConnection() {
        reactor.assertInIOThread()
        guard state == .connected || state == .created else { return }
        if state == .created {
            return lose(Failure(ConnectionDone()), later: true)
        }
        state = .disconnecting
        engine.cancelReceive(fileDescriptor)
        if writeBuffer.isEmpty, producer == nil {
            lose(Failure(ConnectionDone()), later: true)
        }
    }

    /// Drops the connection at once, discarding what was not sent; TCP
    /// sends RST. The protocol hears ``ConnectionAborted`` on the next
    /// turn. Idempotent; a no-op once the connection ended. Reactor thread
    /// only.
    public func abortConnection() {
        reactor.assertInIOThread()
        guard state != .disconnected else { return }
        prepareAbort()
        lose(Failure(ConnectionAborted()), later: true)
    }

    /// Sends FIN once the buffer is empty; reading continues. The protocol
    /// then hears ``HalfCloseableProtocol/writeConnectionLost()`` if it
    /// conforms — before this returns when nothing was buffered. Later
    /// writes are ignored. Reactor thread only.
    public func loseWriteConnection() {
        reactor.assertInIOThread()
        guard state == .connected, !writeCloseRequested else { return }
        writeCloseRequested = true
        if writeBuffer.isEmpty { closeWriteHalf() }
    }

    private func closeWriteHalf() {
        writeClosed = true
        // ENOTCONN: the peer is gone already; reading will report it.
        _ = shutdown(fileDescriptor, Int32(SHUT_WR))
        (connectedProtocol as? any HalfCloseableProtocol)?.writeConnectionLost()
        if readClosed, state == .connected { lose(Failure(ConnectionDone()), later: true) }
    }

    /// Queues a duplicate of `descriptor` to pass to the peer with the next
    /// bytes written (UNIX sockets). Ignored after the connection ended.
    ///
    /// - Throws: ``FileDescriptorQueueFullError`` when as many descriptors
    ///   as one message carries already wait for bytes; ``SystemError``
    ///   when the descriptor cannot be duplicated (`EBADF`, `EMFILE`).
    func queueDescriptor(_ descriptor: Int32) throws {
        reactor.assertInIOThread()
        guard acceptsWrites else { return }
        guard queuedDescriptors.count < maximumDescriptorsPerSend else {
            throw FileDescriptorQueueFullError(limit: maximumDescriptorsPerSend)
        }
        let duplicate = try retryingInterrupts("fcntl(F_DUPFD_CLOEXEC)") { fcntl(descriptor, F_DUPFD_CLOEXEC, 0) }
        queuedDescriptors.append(duplicate)
    }

    private func closeDescriptors(_ descriptors: inout [Int32]) {
        guard !descriptors.isEmpty else { return }
        for descriptor in descriptors { Descriptors.close(descriptor) }
        descriptors = []
    }

    /// Subclass hook run before an abort closes the descriptor (TCP sets
    /// SO_LINGER to 0 so the close sends RST).
    func prepareAbort() {}

    /// Ends the connection: closes the descriptor now (cancelling the
    /// engine's operations), then delivers `connectionLost` now or, when
    /// `later`, on the next turn. `later` is for every loss that can start
    /// inside a call from the protocol (write, loseConnection,
    /// abortConnection, loseWriteConnection, resumeProducing), so the
    /// protocol is never re-entered; only events from the engine deliver
    /// at once. Only the first call counts.
    private func lose(_ reason: Failure, later: Bool) {
        guard state != .disconnected else { return }
        state = .disconnected
        writeBuffer.removeAll()
        closeDescriptors(&inFlightDescriptors)
        closeDescriptors(&queuedDescriptors)
        cancelPullRequest()
        reactor.closeDescriptor(fileDescriptor)
        if later {
            let call = reactor.callLater(0) { [unowned self] in deliverLoss(reason) }
            pendingLoss = (reason, call)
        } else {
            deliverLoss(reason)
        }
    }

    /// Tells the producer to stop, the protocol and the owner that the
    /// connection is gone, once, and lets the reactor forget this
    /// connection.
    private func deliverLoss(_ reason: Failure) {
        if let pendingLoss, pendingLoss.call.isActive { try? pendingLoss.call.cancel() }
        pendingLoss = nil
        reactor.forgetConnection(self)
        let producer = self.producer
        self.producer = nil
        let lostProtocol = connectedProtocol
        connectedProtocol = nil
        let onLost = self.onLost
        self.onLost = nil
        producer?.stopProducing()
        lostProtocol?.connectionLost(reason: reason)
        onLost?(reason)
    }

    /// The reactor is shutting down: ends the connection now with
    /// `reason`, or delivers at once the loss that waited for the next turn.
    func closeForShutdown(reason: Failure) {
        if let pendingLoss {
            deliverLoss(pendingLoss.reason)
        } else if state == .disconnected {
            reactor.forgetConnection(self)
        } else {
            lose(reason, later: false)
        }
    }
}
