import TorsionCore

/// A factory that wraps another factory's protocols in
/// ``ProtocolWrapper``s and keeps track of the live ones: Twisted's
/// `policies.WrappingFactory`, the base of connection policies.
///
/// ``buildProtocol(address:)`` asks ``wrappedFactory`` for a protocol (its
/// refusal is passed on) and wraps it with ``makeWrapper(for:)``, which a
/// subclass overrides to use its own wrapper type (Twisted's `protocol`
/// class attribute). Connected wrappers are in ``protocols`` until their
/// connection is lost. Outgoing-connection events are forwarded to the
/// wrapped factory when it is a ``ClientFactory``.
///
/// Starting and stopping: the wrapped factory is started when this one
/// starts (its first port) and stopped when this one stops (its last). Core's
/// `doStart`/`doStop` are not overridable, so this happens in
/// ``startFactory()`` / ``stopFactory()``; subclasses overriding those
/// must call `super`. Reactor thread only.
open class WrappingFactory: ClientFactory, ProtocolWrapperRegistry {
    /// The factory whose protocols are wrapped.
    public let wrappedFactory: Factory

    /// The connected wrappers, by identity.
    private var registered: [ObjectIdentifier: ProtocolWrapper] = [:]

    /// Makes a factory wrapping `wrappedFactory`'s protocols.
    public init(wrapping wrappedFactory: Factory) {
        self.wrappedFactory = wrappedFactory
        super.init()
    }

    /// The wrappers whose connection is established and not yet lost
    /// (Twisted's `protocols`), in no particular order.
    public var protocols: [ProtocolWrapper] { Array(registered.values) }

    /// The number of wrappers in ``protocols``.
    public var protocolCount: Int { registered.count }

    /// Wraps the wrapped factory's protocol for `address`, or returns `nil`
    /// when the wrapped factory refuses the connection.
    open override func buildProtocol(address: any Address) -> Protocol? {
        guard let wrapped = wrappedFactory.buildProtocol(address: address) else { return nil }
        return makeWrapper(for: wrapped)
    }

    /// The wrapper for one connection; override to use a subclass of
    /// ``ProtocolWrapper``. The default reports to this factory and has it
    /// as its `factory`.
    open func makeWrapper(for wrapped: Protocol) -> ProtocolWrapper {
        let wrapper = ProtocolWrapper(registry: self, wrapping: wrapped)
        wrapper.factory = self
        return wrapper
    }

    /// Adds `wrapper` to ``protocols``.
    open func registerProtocol(_ wrapper: ProtocolWrapper) {
        registered[ObjectIdentifier(wrapper)] = wrapper
    }

    /// Removes `wrapper` from ``protocols`` (unknown wrappers are ignored).
    open func unregisterProtocol(_ wrapper: ProtocolWrapper) {
        registered[ObjectIdentifier(wrapper)] = nil
    }

    /// Starts the wrapped factory along with this one.
    open override func startFactory() {
        wrappedFactory.doStart()
    }

    /// Stops the wrapped factory along with this one.
    open override func stopFactory() {
        wrappedFactory.doStop()
    }

    /// Forwarded to the wrapped factory when it is a ``ClientFactory``.
    open override func startedConnecting(_ connector: any Connector) {
        (wrappedFactory as? ClientFactory)?.startedConnecting(connector)
    }

    /// Forwarded to the wrapped factory when it is a ``ClientFactory``.
    open override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        (wrappedFactory as? ClientFactory)?.clientConnectionFailed(connector, reason: reason)
    }

    /// Forwarded to the wrapped factory when it is a ``ClientFactory``.
    open override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
        (wrappedFactory as? ClientFactory)?.clientConnectionLost(connector, reason: reason)
    }
}
