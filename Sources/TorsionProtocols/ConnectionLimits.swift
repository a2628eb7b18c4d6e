import TorsionCore

/// A server factory that limits the number of simultaneous connections:
/// Twisted's `LimitTotalConnectionsFactory`.
///
/// Protocols come from ``Factory/makeProtocol`` as with a plain factory,
/// each inside a ``ProtocolWrapper`` that reports its end, so
/// ``connectionCount`` is the number of connections built and not yet
/// lost. Once it reaches ``connectionLimit``, new connections get a
/// protocol from ``overflowProtocol`` (say, one that answers "busy" and
/// closes) or, without one, are refused: ``buildProtocol(address:)``
/// returns `nil` and the port closes them at once. Overflow connections
/// count too, as in Twisted. Reactor thread only.
open class LimitTotalConnectionsFactory: Factory, ProtocolWrapperRegistry {
    /// The most connections served at once; `nil` means no limit.
    public var connectionLimit: Int?

    /// Makes the protocol for connections over the limit; `nil` refuses
    /// them instead.
    public var overflowProtocol: (() -> Protocol)?

    /// Connections built and not yet lost (overflow ones included).
    public private(set) var connectionCount = 0

    /// Makes a factory with the given limit (`nil`: none) whose protocols
    /// come from `makeProtocol`.
    public init(connectionLimit: Int?, makeProtocol: (() -> Protocol)? = nil) {
        self.connectionLimit = connectionLimit
        super.init()
        self.makeProtocol = makeProtocol
    }

    /// A wrapped normal protocol while under the limit; over it, a wrapped
    /// ``overflowProtocol`` or `nil` (refused).
    open override func buildProtocol(address: any Address) -> Protocol? {
        let make: (() -> Protocol)?
        if let connectionLimit, connectionCount >= connectionLimit {
            make = overflowProtocol
        } else {
            make = makeProtocol
        }
        guard let make else { return nil }
        let wrapped = make()
        wrapped.factory = self
        let wrapper = ProtocolWrapper(registry: self, wrapping: wrapped)
        wrapper.factory = self
        connectionCount += 1
        return wrapper
    }

    /// Nothing to do: connections are counted when built.
    open func registerProtocol(_ wrapper: ProtocolWrapper) {}

    /// Releases the connection's place.
    open func unregisterProtocol(_ wrapper: ProtocolWrapper) {
        connectionCount = max(0, connectionCount - 1)
    }
}

/// A wrapping factory that limits the simultaneous connections from each
/// peer host: Twisted's `LimitConnectionsByPeer`.
///
/// A connection from a host that already has ``maxConnectionsPerPeer``
/// connections is refused (``buildProtocol(address:)`` returns `nil`). The
/// host of a connection is remembered when it is built and its place is
/// released when the connection is lost, so the count cannot drift even if
/// the transport's peer address is reported differently. A protocol that
/// is built but never connected keeps its place, as in Twisted.
/// Reactor thread only.
open class LimitConnectionsByPeer: WrappingFactory {
    /// The most connections from one host at once (5, as in Twisted).
    public var maxConnectionsPerPeer = 5

    /// Live connections per host key (see ``peerKey(for:)``); hosts
    /// without connections are absent.
    public private(set) var peerConnections: [String: Int] = [:]

    /// The host key of each wrapper built and not yet unregistered.
    private var keysByWrapper: [ObjectIdentifier: String] = [:]

    /// The key connections are counted under: the host of an IPv4 or IPv6
    /// address (any port), the path of a UNIX address, otherwise the
    /// address's description. Override to group peers differently (for
    /// example by subnet).
    open func peerKey(for address: any Address) -> String {
        switch address {
        case let ip as IPv4Address: return ip.host
        case let ip as IPv6Address: return ip.host
        case let unix as UNIXAddress: return unix.name ?? ""
        default: return address.description
        }
    }

    /// Refuses the connection when its host is at the limit; otherwise
    /// wraps the wrapped factory's protocol and counts it.
    open override func buildProtocol(address: any Address) -> Protocol? {
        let key = peerKey(for: address)
        let count = peerConnections[key, default: 0]
        guard count < maxConnectionsPerPeer,
            let wrapper = super.buildProtocol(address: address)
        else { return nil }
        peerConnections[key] = count + 1
        keysByWrapper[ObjectIdentifier(wrapper)] = key
        return wrapper
    }

    /// Releases the connection's place for its host.
    open override func unregisterProtocol(_ wrapper: ProtocolWrapper) {
        super.unregisterProtocol(wrapper)
        guard let key = keysByWrapper.removeValue(forKey: ObjectIdentifier(wrapper)) else { return }
        let remaining = peerConnections[key, default: 1] - 1
        peerConnections[key] = remaining > 0 ? remaining : nil
    }
}
