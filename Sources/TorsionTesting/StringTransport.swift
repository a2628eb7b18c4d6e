import TorsionCore

/// A transport that keeps in memory everything a protocol does to it and
/// does nothing else: Twisted's `StringTransport`
/// (`twisted.internet.testing`).
///
/// Attach it with `protocol.makeConnection(transport)`, feed the protocol
/// with `dataReceived`, then check ``value()`` and the state properties.
/// The transport never delivers anything to the protocol by itself; in
/// particular ``loseConnection()`` only sets ``disconnecting`` and does not
/// call ``TorsionCore/Protocol/connectionLost(reason:)`` (use
/// ``StringTransportWithDisconnection`` for that, or
/// ``connectedPair(server:client:clock:greet:serverAddress:clientAddress:)`` for two
/// protocols talking to each other).
///
/// Writes are recorded in every state, also after ``loseConnection()`` and
/// ``abortConnection()``, as Twisted's does: a test of "nothing is written
/// after closing" checks ``value()`` after the close.
///
/// Misuses of the producer/consumer contract that Twisted reports with a
/// `RuntimeError` (unregistering without a producer, pausing or resuming
/// after ``loseConnection()`` or after ``stopProducing()``) cannot be thrown
/// from the non-throwing ``TorsionCore/Consumer`` and ``TorsionCore/PushProducer``
/// requirements; they are recorded in ``misuses`` instead and change no
/// state, so a test asserts `transport.misuses.isEmpty`.
///
/// The class is not open: subclasses exist only inside this module
/// (``StringTransportWithDisconnection``). Use it from the test's thread
/// only; it is not thread-safe, like the transports it stands in for.
public class StringTransport: TCPTransport {
    // MARK: Recorded state

    /// The bytes written since the last ``clear()``.
    private var written: [UInt8] = []

    /// `true` once ``loseConnection()`` or ``abortConnection()`` was called.
    public private(set) var disconnecting = false

    /// `true` once ``abortConnection()`` was called (Twisted's
    /// `disconnected` attribute, which its `abortConnection` sets).
    public private(set) var aborted = false

    /// `true` once ``loseWriteConnection()`` was called.
    public private(set) var writeDisconnected = false

    /// The registered producer, or `nil`.
    public private(set) var producer: (any Producer)?

    /// The `streaming` flag given with the registered producer; `nil`
    /// without a producer.
    public private(set) var streaming: Bool?

    /// This transport's own state as a producer of incoming data, changed by
    /// ``pauseProducing()``, ``resumeProducing()`` and ``stopProducing()``.
    public private(set) var producerState: ProducerState = .producing

    /// Contract violations seen so far, in order; see the type's
    /// documentation. Empty for a well-behaved protocol.
    public private(set) var misuses: [StringTransportMisuse] = []

    /// When `true`, pausing or resuming after ``loseConnection()`` is not a
    /// misuse (Twisted's `lenient` flag), for protocols that do so on
    /// purpose. Resuming after ``stopProducing()`` is always a misuse.
    public var lenient: Bool

    // MARK: Configurable

    /// The address returned as this end (Twisted's `getHost()`); defaults
    /// to TCP 10.0.0.1:12345, as in Twisted.
    public var host: any Address

    /// The address returned as the other end (Twisted's `getPeer()`);
    /// defaults to TCP 192.168.1.1:54321, as in Twisted.
    public var peer: any Address

    /// Recorded only; a memory transport has no Nagle algorithm to disable.
    public var tcpNoDelay = false

    /// Recorded only; a memory transport sends no keep-alive probes.
    public var tcpKeepAlive = false

    /// Makes a transport with nothing written, no producer and the given
    /// addresses.
    public init(
        host: any Address = IPv4Address(.tcp, host: "10.0.0.1", port: 12345),
        peer: any Address = IPv4Address(.tcp, host: "192.168.1.1", port: 54321),
        lenient: Bool = false
    ) {
        self.host = host
        self.peer = peer
        self.lenient = lenient
    }

    // MARK: Reading what was written

    /// Everything written since the last ``clear()``, concatenated.
    public final func value() -> [UInt8] { written }

    /// ``value()`` decoded as UTF-8 (invalid sequences become U+FFFD), for
    /// text protocols.
    public final var valueString: String { String(decoding: written, as: UTF8.self) }

    /// Forgets what was written so far; the next ``value()`` holds only
    /// later writes. Not a transport method: for tests only.
    public final func clear() { written.removeAll() }

    // MARK: Transport

    /// Records `data`, in every state (see the type's documentation).
    public final func write(_ data: [UInt8]) { written.append(contentsOf: data) }

    /// Records each buffer in order, as one ``write(_:)`` of their
    /// concatenation would.
    public final func writeSequence(_ data: [[UInt8]]) {
        for chunk in data { written.append(contentsOf: chunk) }
    }

    /// Sets ``disconnecting``; nothing else. The protocol's
    /// `connectionLost` is not called: a test calls it when it wants to
    /// simulate the end of the connection.
    public func loseConnection() { disconnecting = true }

    /// Sets ``aborted`` and ``disconnecting``. Written bytes are kept for
    /// inspection.
    public func abortConnection() {
        aborted = true
        disconnecting = true
    }

    /// Sets ``writeDisconnected``; the half-close the protocol asked for.
    public final func loseWriteConnection() { writeDisconnected = true }

    // MARK: Consumer

    /// Records `producer` and `streaming`.
    ///
    /// - Throws: ``TorsionCore/ProducerAlreadyRegisteredError`` when a producer is
    ///   already registered (the first one stays registered). A streaming
    ///   registration of a producer that is not a ``TorsionCore/PushProducer`` is
    ///   recorded as ``StringTransportMisuse/streamingProducerCannotPause``
    ///   and registered anyway.
    public final func registerProducer(_ producer: any Producer, streaming: Bool) throws {
        guard self.producer == nil else { throw ProducerAlreadyRegisteredError() }
        if streaming && !(producer is any PushProducer) {
            misuses.append(.streamingProducerCannotPause)
        }
        self.producer = producer
        self.streaming = streaming
    }

    /// Forgets the registered producer. Without one, records
    /// ``StringTransportMisuse/unregisterWithoutProducer`` (Twisted raises).
    public final func unregisterProducer() {
        guard producer != nil else {
            misuses.append(.unregisterWithoutProducer)
            return
        }
        producer = nil
        streaming = nil
    }

    // MARK: PushProducer (reading)

    /// Moves ``producerState`` to `.paused`, unless that is a misuse
    /// (after ``loseConnection()`` without ``lenient``, or after
    /// ``stopProducing()``), which is recorded instead.
    public final func pauseProducing() {
        if let misuse = producingMisuse(.pause) {
            misuses.append(misuse)
            return
        }
        producerState = .paused
    }

    /// Moves ``producerState`` to `.producing`, unless that is a misuse,
    /// recorded instead (see ``pauseProducing()``).
    public final func resumeProducing() {
        if let misuse = producingMisuse(.resume) {
            misuses.append(misuse)
            return
        }
        producerState = .producing
    }

    /// Moves ``producerState`` to `.stopped`, for good.
    public final func stopProducing() { producerState = .stopped }

    private func producingMisuse(_ operation: StringTransportMisuse.Operation) -> StringTransportMisuse? {
        if producerState == .stopped { return .producingAfterStop(operation) }
        if disconnecting && !lenient { return .producingAfterLoseConnection(operation) }
        return nil
    }
}

/// A violation of the producer/consumer contract recorded by a
/// ``StringTransport`` in ``StringTransport/misuses`` (where Twisted's
/// `StringTransport` raises `RuntimeError`).
public enum StringTransportMisuse: Error, Sendable, Hashable, CustomStringConvertible {
    /// The flow-control call that was refused.
    public enum Operation: String, Sendable, Hashable {
        /// `pauseProducing()`.
        case pause = "pauseProducing"
        /// `resumeProducing()`.
        case resume = "resumeProducing"
    }

    /// `unregisterProducer()` with no producer registered.
    case unregisterWithoutProducer
    /// `registerProducer(_:streaming: true)` with a producer that cannot be
    /// paused (not a `PushProducer`).
    case streamingProducerCannotPause
    /// Pausing or resuming the transport after `loseConnection()`, which
    /// cannot have any effect (allowed with `lenient`).
    case producingAfterLoseConnection(Operation)
    /// Pausing or resuming the transport after `stopProducing()`.
    case producingAfterStop(Operation)

    /// What was done wrong, in Twisted's words where it has them.
    public var description: String {
        switch self {
        case .unregisterWithoutProducer:
            "cannot unregister a producer unless one is registered"
        case .streamingProducerCannotPause:
            "a streaming producer must be a PushProducer"
        case .producingAfterLoseConnection(let operation):
            "cannot \(operation.rawValue) after loseConnection"
        case .producingAfterStop(let operation):
            "cannot \(operation.rawValue) a stopped producer"
        }
    }
}
