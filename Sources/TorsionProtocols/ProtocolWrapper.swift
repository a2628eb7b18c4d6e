import TorsionCore

/// Keeps track of the ``ProtocolWrapper``s it made: told when each one is
/// connected and when it lost its connection. ``WrappingFactory`` and
/// ``LimitTotalConnectionsFactory`` count connections this way.
/// Reactor thread only.
public protocol ProtocolWrapperRegistry: AnyObject {
    /// `wrapper` got its transport; its wrapped protocol is connected next.
    func registerProtocol(_ wrapper: ProtocolWrapper)
    /// `wrapper` lost its connection; its wrapped protocol is told next.
    func unregisterProtocol(_ wrapper: ProtocolWrapper)
}

/// A protocol that stands between a transport and another protocol:
/// Twisted's `policies.ProtocolWrapper`.
///
/// To the real transport it is the protocol: it forwards every event to
/// ``wrappedProtocol``. To the wrapped protocol it is the transport: every
/// write, close and flow-control call is forwarded to the real one. A
/// subclass overrides any of the two sides to watch or alter the traffic
/// (count bytes, log, throttle, time out). Its registry, usually the
/// factory that made it, is told when the connection starts and ends.
///
/// The wrapped protocol is released after ``connectionLost(reason:)`` to
/// break the wrapper ⇄ wrapped reference cycle, as in Twisted.
/// Reactor thread only.
open class ProtocolWrapper: Protocol, Transport {
    /// The protocol receiving the events; `nil` once the connection was
    /// lost.
    public private(set) var wrappedProtocol: Protocol?

    /// Told about connection start and end; usually the factory.
    public let registry: (any ProtocolWrapperRegistry)?

    /// Set by ``loseConnection()`` and ``abortConnection()`` on the wrapper.
    private var closeRequested = false

    /// Makes a wrapper around `wrappedProtocol`, reporting to `registry`.
    public init(registry: (any ProtocolWrapperRegistry)?, wrapping wrappedProtocol: Protocol) {
        self.registry = registry
        self.wrappedProtocol = wrappedProtocol
        super.init()
    }

    // MARK: Protocol side (events from the real transport)

    /// Keeps the real transport, registers with ``registry`` and connects
    /// the wrapped protocol to this wrapper.
    open override func makeConnection(_ transport: any Transport) {
        super.makeConnection(transport)
        registry?.registerProtocol(self)
        wrappedProtocol?.makeConnection(self)
    }

    /// Forwards the bytes to the wrapped protocol.
    open override func dataReceived(_ data: [UInt8]) {
        wrappedProtocol?.dataReceived(data)
    }

    /// Unregisters, tells the wrapped protocol, then releases it.
    open override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        registry?.unregisterProtocol(self)
        wrappedProtocol?.connectionLost(reason: reason)
        wrappedProtocol = nil
    }

    // MARK: Transport side (calls from the wrapped protocol)

    /// Forwards to the real transport.
    open func write(_ data: [UInt8]) {
        transport?.write(data)
    }

    /// Forwards to the real transport, keeping the write vectored.
    open func writeSequence(_ data: [[UInt8]]) {
        transport?.writeSequence(data)
    }

    /// Marks the wrapper disconnecting and forwards.
    open func loseConnection() {
        closeRequested = true
        transport?.loseConnection()
    }

    /// Marks the wrapper disconnecting and forwards.
    open func abortConnection() {
        closeRequested = true
        transport?.abortConnection()
    }

    /// `true` once the wrapped protocol (or a subclass) asked to close, or
    /// the real transport is closing.
    open var disconnecting: Bool {
        closeRequested || transport?.disconnecting == true
    }

    /// The real transport's local address; an `UnconnectedAddress` before
    /// ``makeConnection(_:)``.
    open var host: any Address { transport?.host ?? UnconnectedAddress() }

    /// The real transport's peer address; an `UnconnectedAddress` before
    /// ``makeConnection(_:)``.
    open var peer: any Address { transport?.peer ?? UnconnectedAddress() }

    /// Forwards to the real transport. Before the connection there is
    /// nothing to register with, and the call does nothing.
    open func registerProducer(_ producer: any Producer, streaming: Bool) throws {
        try transport?.registerProducer(producer, streaming: streaming)
    }

    /// Forwards to the real transport.
    open func unregisterProducer() {
        transport?.unregisterProducer()
    }

    /// Pauses the real transport's reading.
    open func pauseProducing() {
        transport?.pauseProducing()
    }

    /// Resumes the real transport's reading.
    open func resumeProducing() {
        transport?.resumeProducing()
    }

    /// Forwards to the real transport.
    open func stopProducing() {
        transport?.stopProducing()
    }
}

/// The address a ``ProtocolWrapper`` reports before it has a transport.
public struct UnconnectedAddress: Address, Hashable {
    /// Makes the placeholder.
    public init() {}
    /// `UnconnectedAddress()`.
    public var description: String { "UnconnectedAddress()" }
}
