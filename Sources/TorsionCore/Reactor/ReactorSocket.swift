/// An address family of a socket handed to ``ReactorSocket``.
public enum AddressFamily: Sendable, Hashable {
    /// IPv4 (AF_INET).
    case inet
    /// IPv6 (AF_INET6).
    case inet6
    /// UNIX domain (AF_UNIX).
    case unix
}

/// Adopting sockets created elsewhere (inherited from a parent, systemd
/// socket activation): Twisted's `IReactorSocket`. The reactor takes a
/// duplicate of the descriptor; the caller still owns and closes the
/// original. Reactor thread only.
public protocol ReactorSocket: AnyObject {
    /// Starts accepting on an already listening stream socket.
    func adoptStreamPort(_ fileDescriptor: Int32, addressFamily: AddressFamily, factory: Factory) throws
        -> any ListeningPort

    /// Runs a protocol from `factory` on an already connected stream socket.
    func adoptStreamConnection(_ fileDescriptor: Int32, addressFamily: AddressFamily, factory: Factory) throws

    /// Attaches `protocol` to an already bound datagram socket.
    func adoptDatagramPort(
        _ fileDescriptor: Int32, addressFamily: AddressFamily, protocol: DatagramProtocol, maxPacketSize: Int
    ) throws -> any DatagramPort
}
