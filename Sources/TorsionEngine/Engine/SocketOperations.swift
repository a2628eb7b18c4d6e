/// What one shot of a multishot ``IOEngine/accept(_:handler:)`` produced.
package enum AcceptResult {
    /// A connection: a nonblocking, close-on-exec descriptor now owned by
    /// the handler, and the peer's address.
    case accepted(descriptor: Int32, peer: SocketAddress)
    /// `accept` failed, for example with `EMFILE` or `ENFILE` when the
    /// process or the system is out of descriptors; the connection stays
    /// queued in the kernel.
    case failed(SystemError)
}

/// An engine whose `accept` system call can be replaced, so tests can play
/// a kernel that is out of descriptors without exhausting the process.
package protocol AcceptCallReplaceable: AnyObject {
    /// The `accept4` wrapper the engine calls (``Socket/accept(_:)`` by default).
    var acceptCall: (Int32) throws(SystemError) -> (descriptor: Int32, peer: SocketAddress)? { get set }
}
