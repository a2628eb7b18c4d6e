import TorsionCore

/// What a reactor owns besides the FDSet's foreign descriptors: the
/// descriptors of its transports and ports, and every stream connection
/// that has not yet delivered `connectionLost`. Reactor thread only.
final class OwnedTransports {
    /// Descriptors the reactor must close (connections, ports).
    var descriptors: Set<Int32> = []
    /// Live stream connections, so shutdown can close them.
    var connections: [ObjectIdentifier: StreamConnection] = [:]
}

extension Reactor {
    /// Makes the transport for a connected stream socket: a
    /// ``TCPConnection`` for an IP address, a ``UNIXConnection`` for a
    /// UNIX one. The reactor takes ownership of `descriptor` (already
    /// non-blocking and close-on-exec) and keeps the connection until it
    /// delivered `connectionLost`; call ``StreamConnection/start(protocol:onLost:)``
    /// next. Reactor thread only.
    func makeStreamConnection(descriptor: Int32, host: SocketAddress, peer: SocketAddress) -> StreamConnection {
        assertInIOThread()
        adoptDescriptor(descriptor)
        let connection: StreamConnection =
            switch peer {
            case .unix: UNIXConnection(reactor: self, descriptor: descriptor, host: host, peer: peer)
            case .ipv4, .ipv6: TCPConnection(reactor: self, descriptor: descriptor, host: host, peer: peer)
            }
        ownedTransports.connections[ObjectIdentifier(connection)] = connection
        return connection
    }

    /// Records that the reactor now owns `fd` and must close it (with
    /// ``closeDescriptor(_:)``). Adopting an fd already owned changes
    /// nothing, so a connector may adopt its socket before handing it to
    /// ``makeStreamConnection(descriptor:host:peer:)``. Reactor thread only.
    func adoptDescriptor(_ fd: Int32) {
        assertInIOThread()
        ownedTransports.descriptors.insert(fd)
    }

    /// Cancels everything the engine does with `fd`, has the engine close
    /// it (at once, or on io_uring once its operations have completed) and
    /// forgets it. Reactor thread only.
    func closeDescriptor(_ fd: Int32) {
        assertInIOThread()
        if ownedTransports.descriptors.remove(fd) != nil {
            engine.closeDescriptor(fd)
        } else {
            engine.unwatch(fd)
        }
    }

    /// Number of descriptors owned by live transports and ports: 0 once
    /// they are all gone, which leak checks in tests rely on. Reactor
    /// thread only.
    var ownedDescriptorCount: Int { ownedTransports.descriptors.count }

    /// Number of stream connections that have not delivered
    /// `connectionLost` yet. Reactor thread only.
    var liveConnectionCount: Int { ownedTransports.connections.count }

    /// Drops `connection` once it delivered `connectionLost`.
    func forgetConnection(_ connection: StreamConnection) {
        ownedTransports.connections[ObjectIdentifier(connection)] = nil
    }

    /// Closes every live stream connection during shutdown (Twisted's
    /// `disconnectAll`): each protocol hears `reason` now, or the reason
    /// it was about to hear on the next turn.
    func closeStreamConnections(reason: Failure) {
        for connection in Array(ownedTransports.connections.values) {
            connection.closeForShutdown(reason: reason)
        }
    }
}
