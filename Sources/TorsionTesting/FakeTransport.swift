import TorsionCore

/// One end of an in-memory connection moved by an ``IOPump``: Twisted's
/// `iosim.FakeTransport`.
///
/// Writes are buffered until the pump hands them to the other end's
/// protocol. The end is closed the way a real transport closes:
/// ``loseConnection()`` and ``loseWriteConnection()`` take effect once the
/// buffer was delivered; ``abortConnection()`` discards the buffer and
/// drops later writes. The pump then delivers `connectionLost` to both
/// protocols (see ``IOPump/pump(advanceClock:)``); afterwards writes are
/// dropped and the protocol is released.
///
/// Flow control works both ways. A protocol that pauses its transport
/// (``pauseProducing()``) receives nothing until it resumes; the bytes wait
/// in the sender's buffer. A streaming producer registered on this
/// transport is paused when the buffer grows past ``highWaterMark`` and
/// resumed when the pump empties it; a pull producer is asked for more
/// (`resumeProducing()`) when registered and on each pump that finds the
/// buffer empty. Test thread only.
public final class FakeTransport: TCPTransport {
    /// `true` for the accepting end.
    public let isServer: Bool

    /// The protocol receiving what the other end writes; released once
    /// the connection was lost.
    public private(set) var `protocol`: Protocol?

    /// This end's address.
    public var host: any Address

    /// The other end's address.
    public var peer: any Address

    /// Recorded only.
    public var tcpNoDelay = false

    /// Recorded only.
    public var tcpKeepAlive = false

    /// Above this many buffered bytes a registered streaming producer is
    /// paused; 64 KiB, the write buffer size of Twisted's transports.
    public var highWaterMark = 65_536

    /// Bytes written and not yet delivered.
    public private(set) var pendingBytes: [UInt8] = []

    /// `true` once ``loseConnection()`` or ``abortConnection()`` was called.
    public private(set) var disconnecting = false

    /// `true` once ``abortConnection()`` was called.
    public private(set) var aborted = false

    /// `true` once ``loseWriteConnection()`` was called.
    public private(set) var writeDisconnecting = false

    /// `true` once the pump delivered this end's half-close to the peer;
    /// later writes are dropped.
    public internal(set) var writeClosed = false

    /// The reason given to this end's protocol by `connectionLost`, once
    /// the connection was lost.
    public private(set) var lostReason: Failure?

    /// `true` once the connection was lost.
    public var disconnected: Bool { lostReason != nil }

    /// The registered producer, or `nil`.
    public private(set) var producer: (any Producer)?

    /// The `streaming` flag given with the registered producer.
    public private(set) var streaming: Bool?

    /// `true` while this transport holds its streaming producer paused
    /// because of a full buffer.
    public private(set) var producerPaused = false

    /// This end's reading state, changed by the protocol's
    /// ``pauseProducing()``, ``resumeProducing()`` and ``stopProducing()``.
    public private(set) var producerState: ProducerState = .producing

    /// Makes an end delivering to `protocol`; connect the protocol with
    /// `protocol.makeConnection(transport)` and pump with an ``IOPump``
    /// (``connectedPair(server:client:clock:greet:serverAddress:clientAddress:)``
    /// does all of it).
    public init(protocol: Protocol, isServer: Bool, host: any Address, peer: any Address) {
        self.protocol = `protocol`
        self.isServer = isServer
        self.host = host
        self.peer = peer
    }

    // MARK: Transport

    /// Buffers `data` for the pump. Dropped after ``abortConnection()``,
    /// after the half-close was delivered and after the connection was
    /// lost; accepted after ``loseConnection()`` until the close happens.
    public func write(_ data: [UInt8]) {
        guard !aborted, !writeClosed, !disconnected else { return }
        pendingBytes.append(contentsOf: data)
        if pendingBytes.count > highWaterMark, streaming == true, !producerPaused,
            let pushProducer = producer as? any PushProducer
        {
            producerPaused = true
            pushProducer.pauseProducing()
        }
    }

    /// Closes the connection once the buffer was delivered.
    public func loseConnection() { disconnecting = true }

    /// Discards the buffer and drops later writes; the next pump loses the
    /// connection with ``TorsionCore/ConnectionAborted`` here and
    /// ``TorsionCore/ConnectionLost`` at the other end.
    public func abortConnection() {
        aborted = true
        disconnecting = true
        pendingBytes.removeAll()
    }

    /// Closes the writing half once the buffer was delivered.
    public func loseWriteConnection() { writeDisconnecting = true }

    // MARK: Consumer

    /// Registers `producer`; a pull producer (`streaming` false) is asked
    /// for data at once. After the connection was lost the producer is
    /// stopped instead of registered.
    ///
    /// - Throws: ``TorsionCore/ProducerAlreadyRegisteredError`` when one is registered.
    public func registerProducer(_ producer: any Producer, streaming: Bool) throws {
        guard self.producer == nil else { throw ProducerAlreadyRegisteredError() }
        if disconnected {
            producer.stopProducing()
            return
        }
        self.producer = producer
        self.streaming = streaming
        producerPaused = false
        if !streaming, let pullProducer = producer as? any PullProducer {
            pullProducer.resumeProducing()
        }
    }

    /// Forgets the registered producer (no-op without one, like a real
    /// transport).
    public func unregisterProducer() {
        producer = nil
        streaming = nil
        producerPaused = false
    }

    // MARK: PushProducer (reading)

    /// Stops delivery to this end's protocol until ``resumeProducing()``.
    public func pauseProducing() {
        if producerState == .producing { producerState = .paused }
    }

    /// Lets the pump deliver to this end's protocol again.
    public func resumeProducing() {
        if producerState == .paused { producerState = .producing }
    }

    /// Stops reading for good and closes the connection, as a real
    /// transport does.
    public func stopProducing() {
        producerState = .stopped
        loseConnection()
    }

    // MARK: Used by IOPump

    /// Whether bytes may be delivered to this end now.
    var isReading: Bool { producerState == .producing && !disconnected }

    /// Takes the buffered bytes, resuming a producer paused for a full
    /// buffer.
    func takePendingBytes() -> [UInt8] {
        let taken = pendingBytes
        pendingBytes.removeAll()
        if producerPaused, let pushProducer = producer as? any PushProducer {
            producerPaused = false
            pushProducer.resumeProducing()
        }
        return taken
    }

    /// Asks a registered pull producer for more when the buffer is empty.
    func pollPullProducer() {
        guard streaming == false, pendingBytes.isEmpty, !disconnected,
            let pullProducer = producer as? any PullProducer
        else { return }
        pullProducer.resumeProducing()
    }

    /// Hands `data` to the protocol.
    func deliver(_ data: [UInt8]) {
        `protocol`?.dataReceived(data)
    }

    /// Marks the connection lost, discards the buffer, stops the producer
    /// and reports `reason` to the protocol, which is then released.
    func connectionLost(reason: Failure) {
        guard !disconnected else { return }
        lostReason = reason
        pendingBytes.removeAll()
        if let producer {
            self.producer = nil
            streaming = nil
            producer.stopProducing()
        }
        let lost = `protocol`
        `protocol` = nil
        lost?.connectionLost(reason: reason)
    }
}
