/// A UDP socket that can join multicast groups (Twisted's `IMulticastTransport`).
public protocol MulticastPort: DatagramPort {
    /// Joins the group `address` on the interface with address `interface`.
    func joinGroup(_ address: String, interface: String) -> Deferred<Void>
    /// Leaves a group joined with ``joinGroup(_:interface:)``.
    func leaveGroup(_ address: String, interface: String) -> Deferred<Void>
    /// Time-to-live of outgoing multicast datagrams.
    var multicastTTL: Int { get set }
    /// Whether our own multicast datagrams are looped back to us.
    var multicastLoopback: Bool { get set }
}

/// Multicast UDP: Twisted's `IReactorMulticast`. Reactor thread only.
public protocol ReactorMulticast: AnyObject {
    /// Binds a multicast-capable UDP socket. `listenMultiple` sets
    /// SO_REUSEPORT so several processes can share the port.
    ///
    /// - Throws: ``CannotListenError`` when the address cannot be bound.
    func listenMulticast(
        _ port: Int, protocol: DatagramProtocol, interface: String, maxPacketSize: Int, listenMultiple: Bool
    ) throws -> any MulticastPort
}

extension ReactorMulticast {
    /// `listenMulticast` with Twisted's defaults.
    public func listenMulticast(
        _ port: Int, protocol: DatagramProtocol, interface: String = "", maxPacketSize: Int = 8192,
        listenMultiple: Bool = false
    ) throws -> any MulticastPort {
        try listenMulticast(
            port, protocol: `protocol`, interface: interface, maxPacketSize: maxPacketSize,
            listenMultiple: listenMultiple)
    }
}
