import TorsionCore

/// The wrapped factory refused the connection: its `buildProtocol` returned
/// `nil` (Twisted's `NoProtocol`). A client endpoint's Deferred fails with it.
public struct NoProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// Says what happened.
    public var description: String { "NoProtocolError: the factory built no protocol for the connection" }
}

/// The client factory a ``StreamClientEndpoint`` hands to the reactor:
/// Twisted's `_WrappingFactory`. It turns one connection attempt into one
/// Deferred.
///
/// ``whenConnected`` fires with the wrapped factory's protocol once that
/// protocol's `connectionMade` has run (not merely when it is built), fails
/// with the reason from `clientConnectionFailed`, fails with
/// ``NoProtocolError`` when the wrapped factory refuses, and cancelling it
/// while connecting calls the connector's `stopConnecting()` and fails it
/// with ``TorsionCore/ConnectingCancelledError``. The wrapped factory is
/// started and stopped with this one. Reactor thread only.
public final class EndpointConnectingFactory: ClientFactory {
    /// The factory whose protocol is connected.
    public let wrappedFactory: Factory

    /// Fires once: with the connected protocol, or with why there is none.
    public let whenConnected: Deferred<Protocol>

    /// The connector of the attempt, known once the reactor started it.
    public private(set) var connector: (any Connector)?

    /// Makes a factory for one attempt to connect `wrappedFactory`'s protocol.
    public init(wrapping wrappedFactory: Factory) {
        self.wrappedFactory = wrappedFactory
        // The canceller must not keep the factory alive: the connector holds
        // it while the attempt lasts, and afterwards there is nothing to stop.
        weak var weakSelf: EndpointConnectingFactory?
        whenConnected = Deferred { deferred in
            try? deferred.errback(ConnectingCancelledError())
            try? weakSelf?.connector?.stopConnecting()
        }
        super.init()
        weakSelf = self
    }

    /// Wraps `wrappedFactory` and lets `start` begin the attempt with the
    /// wrapping factory (typically `connectTCP` or `connectUNIX`); returns
    /// the Deferred of ``whenConnected``.
    public static func connect(_ wrappedFactory: Factory, start: (ClientFactory) -> any Connector) -> Deferred<Protocol>
    {
        let wrapping = EndpointConnectingFactory(wrapping: wrappedFactory)
        let connector = start(wrapping)
        if wrapping.connector == nil { wrapping.connector = connector }
        return wrapping.whenConnected
    }

    /// Builds the wrapped factory's protocol inside a forwarding protocol
    /// that fires ``whenConnected`` from `connectionMade`; fails
    /// ``whenConnected`` with ``NoProtocolError`` when it refuses.
    public override func buildProtocol(address: any Address) -> Protocol? {
        guard let wrapped = wrappedFactory.buildProtocol(address: address) else {
            try? whenConnected.errback(NoProtocolError())
            return nil
        }
        let forwarding: EndpointConnectionProtocol
        if wrapped is HalfCloseableProtocol {
            forwarding = HalfCloseableEndpointConnectionProtocol(wrapping: wrapped, whenConnected: whenConnected)
        } else {
            forwarding = EndpointConnectionProtocol(wrapping: wrapped, whenConnected: whenConnected)
        }
        forwarding.factory = self
        return forwarding
    }

    /// Remembers the connector so that cancelling can stop it.
    public override func startedConnecting(_ connector: any Connector) {
        self.connector = connector
    }

    /// Fails ``whenConnected`` with `reason` (ignored once it has fired,
    /// for example after a cancel).
    public override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        try? whenConnected.errback(reason)
    }

    /// Starts the wrapped factory along with this one.
    public override func startFactory() {
        wrappedFactory.doStart()
    }

    /// Stops the wrapped factory along with this one.
    public override func stopFactory() {
        wrappedFactory.doStop()
    }
}

/// Sits between the transport and the wrapped protocol of an endpoint
/// connection (Twisted's `_WrappingProtocol`): the wrapped protocol gets the
/// real transport, and every event is forwarded. Reactor thread only.
class EndpointConnectionProtocol: Protocol {
    /// The protocol that receives the events; released after `connectionLost`.
    private(set) var wrappedProtocol: Protocol?
    private let whenConnected: Deferred<Protocol>

    init(wrapping wrappedProtocol: Protocol, whenConnected: Deferred<Protocol>) {
        self.wrappedProtocol = wrappedProtocol
        self.whenConnected = whenConnected
        super.init()
    }

    /// Connects the wrapped protocol to the real transport, then fires the
    /// Deferred with it.
    override func connectionMade() {
        guard let wrappedProtocol, let transport else { return }
        wrappedProtocol.makeConnection(transport)
        try? whenConnected.callback(wrappedProtocol)
    }

    override func dataReceived(_ data: [UInt8]) {
        wrappedProtocol?.dataReceived(data)
    }

    override func connectionLost(reason: Failure) {
        super.connectionLost(reason: reason)
        wrappedProtocol?.connectionLost(reason: reason)
        wrappedProtocol = nil
    }
}

/// The forwarding protocol for a wrapped protocol that handles half-close;
/// a separate class so that a wrapped protocol without it keeps the
/// default (EOF closes the connection).
final class HalfCloseableEndpointConnectionProtocol: EndpointConnectionProtocol, HalfCloseableProtocol {
    func readConnectionLost() {
        (wrappedProtocol as? HalfCloseableProtocol)?.readConnectionLost()
    }

    func writeConnectionLost() {
        (wrappedProtocol as? HalfCloseableProtocol)?.writeConnectionLost()
    }
}
