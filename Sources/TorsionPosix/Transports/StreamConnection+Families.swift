import Glibc
import TorsionCore

/// A TCP connection (Twisted's `tcp.Server` / `tcp.Client` transport).
/// Nagle's algorithm is off by default (TCP_NODELAY), so small writes go
/// out at once; an abort sends RST. Reactor thread only.
public final class TCPConnection: StreamConnection, TCPTransport {
    // MARK: Reactor thread only

    private var noDelay = true
    private var keepAlive = false

    override init(reactor: Reactor, descriptor: Int32, host: SocketAddress, peer: SocketAddress) {
        super.init(reactor: reactor, descriptor: descriptor, host: host, peer: peer)
        // Fails only for a descriptor that is not a TCP socket; the
        // connection still works, with Nagle.
        noDelay = (try? Socket.setNoDelay(descriptor, true)) != nil
    }

    /// Whether TCP_NODELAY is set; `true` by default. Setting it after the
    /// connection ended only records the value. Reactor thread only.
    public var tcpNoDelay: Bool {
        get { noDelay }
        set {
            reactor.assertInIOThread()
            noDelay = newValue
            if state != .disconnected { try? Socket.setNoDelay(fileDescriptor, newValue) }
        }
    }

    /// Whether SO_KEEPALIVE is set; `false` by default. Setting it after
    /// the connection ended only records the value. Reactor thread only.
    public var tcpKeepAlive: Bool {
        get { keepAlive }
        set {
            reactor.assertInIOThread()
            keepAlive = newValue
            if state != .disconnected { try? Socket.setKeepAlive(fileDescriptor, newValue) }
        }
    }

    /// SO_LINGER with a zero timeout: closing then discards unsent data
    /// and sends RST instead of FIN.
    override func prepareAbort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}

/// A UNIX-domain stream connection (Twisted's `unix.Server` / `unix.Client`
/// transport); it can pass open descriptors to its peer. Reactor thread
/// only.
public final class UNIXConnection: StreamConnection, UNIXTransport {
    /// Passes a duplicate of `descriptor` to the peer (SCM_RIGHTS) with the
    /// next bytes written: write at least one byte after it. The caller
    /// keeps `descriptor`; the duplicate is closed once sent or when the
    /// connection ends. Ignored after the connection ended. Reactor thread
    /// only.
    ///
    /// - Throws: ``FileDescriptorQueueFullError`` when 253 descriptors
    ///   (what one message carries) already wait for bytes, ``SystemError``
    ///   when `descriptor` cannot be duplicated.
    public func sendFileDescriptor(_ descriptor: Int32) throws {
        try queueDescriptor(descriptor)
    }
}

/// ``UNIXConnection/sendFileDescriptor(_:)`` was called while as many
/// descriptors as one message can pass (Linux's SCM_MAX_FD) were waiting
/// for bytes to travel with: write some bytes first.
public struct FileDescriptorQueueFullError: Error, CustomStringConvertible, Equatable {
    /// The number of descriptors that may wait.
    public let limit: Int
    /// Makes the error.
    public init(limit: Int) { self.limit = limit }
    /// Names the limit.
    public var description: String {
        "FileDescriptorQueueFullError: \(limit) descriptors already wait for bytes to be written with"
    }
}
