import TorsionCore

/// A ``StringTransport`` whose ``loseConnection()`` and
/// ``abortConnection()`` also end the connection: Twisted's
/// `StringTransportWithDisconnection`.
///
/// The first of them calls ``protocol``'s
/// ``TorsionCore/Protocol/connectionLost(reason:)`` synchronously, with
/// ``TorsionCore/ConnectionDone`` for ``loseConnection()`` and
/// ``TorsionCore/ConnectionAborted`` for ``abortConnection()`` (Twisted's
/// version reports `ConnectionDone` for both); later calls do not call it
/// again. Set ``protocol`` before the protocol can close the connection.
/// Test thread only.
public final class StringTransportWithDisconnection: StringTransport {
    /// The protocol told about the end of the connection.
    ///
    /// Held weakly: the protocol holds its transport strongly, and a strong
    /// reference back would be a cycle. The test keeps the protocol alive.
    public weak var `protocol`: Protocol?

    /// `true` until the first ``loseConnection()`` or ``abortConnection()``.
    public private(set) var connected = true

    /// Makes a transport; see ``StringTransport/init(host:peer:lenient:)``.
    /// `protocol` may also be set later.
    public init(
        protocol: Protocol? = nil,
        host: any Address = IPv4Address(.tcp, host: "10.0.0.1", port: 12345),
        peer: any Address = IPv4Address(.tcp, host: "192.168.1.1", port: 54321),
        lenient: Bool = false
    ) {
        self.protocol = `protocol`
        super.init(host: host, peer: peer, lenient: lenient)
    }

    /// Sets ``StringTransport/disconnecting`` and, the first time the
    /// connection ends, calls `connectionLost` with ``TorsionCore/ConnectionDone``.
    public override func loseConnection() {
        super.loseConnection()
        end(reason: ConnectionDone("Bye."))
    }

    /// Sets ``StringTransport/aborted`` and, the first time the connection
    /// ends, calls `connectionLost` with ``TorsionCore/ConnectionAborted``.
    public override func abortConnection() {
        super.abortConnection()
        end(reason: ConnectionAborted())
    }

    private func end(reason: any Error) {
        guard connected else { return }
        connected = false
        `protocol`?.connectionLost(reason: Failure(reason))
    }
}
