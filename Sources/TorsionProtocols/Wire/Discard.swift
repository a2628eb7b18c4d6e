import TorsionCore

/// Reads and drops everything it receives, writing nothing: the Discard
/// service of RFC 863 and Twisted's `protocols.wire.Discard`.
///
/// It keeps no bytes, so a peer can send any amount without growing
/// memory. Reactor thread only.
public final class Discard: Protocol {
    /// Makes a discard protocol, not yet connected.
    public override init() {}

    /// Drops `data`.
    public override func dataReceived(_ data: [UInt8]) {}
}
