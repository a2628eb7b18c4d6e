/// UNIX-domain datagram sockets: Twisted's `IReactorUNIXDatagram`.
/// Reactor thread only.
public protocol ReactorUNIXDatagram: AnyObject {
    /// Binds a datagram socket at `path` and attaches `protocol`.
    ///
    /// - Throws: ``CannotListenError`` when the path cannot be bound.
    func listenUNIXDatagram(
        _ path: String, protocol: DatagramProtocol, maxPacketSize: Int, mode: UInt32
    ) throws -> any DatagramPort

    /// Makes a datagram socket connected to `path`, optionally bound to
    /// `bindAddress` so the peer can reply.
    func connectUNIXDatagram(
        _ path: String, protocol: DatagramProtocol, maxPacketSize: Int, mode: UInt32, bindAddress: String?
    ) throws -> any DatagramPort
}

extension ReactorUNIXDatagram {
    /// `listenUNIXDatagram` with Twisted's defaults.
    public func listenUNIXDatagram(
        _ path: String, protocol: DatagramProtocol, maxPacketSize: Int = 8192, mode: UInt32 = 0o666
    ) throws -> any DatagramPort {
        try listenUNIXDatagram(path, protocol: `protocol`, maxPacketSize: maxPacketSize, mode: mode)
    }
}
