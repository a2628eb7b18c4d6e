import TorsionCore

/// Writes every byte it receives back to its peer, unchanged and in order:
/// the Echo service of RFC 862 and Twisted's `protocols.wire.Echo`.
///
/// Use it with ``TorsionCore/Factory/forProtocol(_:)``. It keeps no state,
/// so memory per connection is bounded by what the transport buffers.
/// Reactor thread only.
public final class Echo: Protocol {
    /// Makes an echo protocol, not yet connected.
    public override init() {}

    /// Writes `data` back on the same transport.
    public override func dataReceived(_ data: [UInt8]) {
        transport?.write(data)
    }
}
