/// A bound datagram socket: what `listenUDP` and friends return.
public protocol DatagramPort: DatagramTransport {
    /// The largest datagram read; longer ones are truncated by the system.
    var maxPacketSize: Int { get }
}

/// UDP sockets: Twisted's `IReactorUDP`. Reactor thread only.
public protocol ReactorUDP: AnyObject {
    /// Binds a UDP socket on `port` (0: any) and `interface` and attaches
    /// `protocol`, which receives every datagram.
    ///
    /// - Throws: ``CannotListenError`` when the address cannot be bound.
    func listenUDP(
        _ port: Int, protocol: DatagramProtocol, interface: String, maxPacketSize: Int
    ) throws -> any DatagramPort
}

extension ReactorUDP {
    /// `listenUDP` with Twisted's defaults: all interfaces, 8192-byte packets.
    public func listenUDP(
        _ port: Int, protocol: DatagramProtocol, interface: String = "", maxPacketSize: Int = 8192
    ) throws -> any DatagramPort {
        try listenUDP(port, protocol: `protocol`, interface: interface, maxPacketSize: maxPacketSize)
    }
}
