/// One end of a byte-stream connection, as seen by its ``Protocol``:
/// Twisted's `ITransport` together with the producer/consumer roles every
/// stream transport plays.
///
/// Writes never block: bytes are queued and flushed as the peer accepts
/// them. As a ``Consumer`` a transport flow-controls a registered producer;
/// as a ``PushProducer`` it can be told to stop and resume *reading*
/// (``pauseProducing()`` / ``resumeProducing()``). Reactor thread only.
public protocol Transport: Consumer, PushProducer {
    /// Queues `data` to be sent, in order. A no-op after the connection was
    /// lost.
    func write(_ data: [UInt8])

    /// Queues several buffers at once; a real transport sends them with one
    /// vectored system call.
    func writeSequence(_ data: [[UInt8]])

    /// Closes the connection after every queued byte was written (and, with
    /// a registered producer, after it unregisters). ``Protocol/connectionLost(reason:)``
    /// follows with ``ConnectionDone``.
    func loseConnection()

    /// Closes the connection at once, discarding queued bytes (RST for
    /// TCP). Idempotent; ``Protocol/connectionLost(reason:)`` follows with
    /// ``ConnectionAborted``.
    func abortConnection()

    /// `true` once ``loseConnection()`` or ``abortConnection()`` was called.
    var disconnecting: Bool { get }

    /// This end's address (Twisted's `getHost()`).
    var host: any Address { get }

    /// The other end's address (Twisted's `getPeer()`).
    var peer: any Address { get }
}

extension Transport {
    /// Writes the UTF-8 bytes of `string`.
    public func write(_ string: String) { write(Array(string.utf8)) }

    /// Default vectored write: writes each buffer in turn.
    public func writeSequence(_ data: [[UInt8]]) {
        for chunk in data { write(chunk) }
    }
}

/// A transport that can close only its writing half, for protocols that
/// implement ``HalfCloseableProtocol`` (Twisted's `IHalfCloseableDescriptor`).
public protocol HalfCloseableTransport: Transport {
    /// Sends FIN after queued bytes are written; reading continues.
    func loseWriteConnection()
}

/// A TCP connection (Twisted's `ITCPTransport`).
public protocol TCPTransport: HalfCloseableTransport {
    /// Whether Nagle's algorithm is disabled (TCP_NODELAY). Torsion's TCP
    /// transports enable it by default.
    var tcpNoDelay: Bool { get set }
    /// Whether TCP keep-alive probes are sent (SO_KEEPALIVE).
    var tcpKeepAlive: Bool { get set }
}

/// A UNIX-domain stream connection (Twisted's `IUNIXTransport`).
public protocol UNIXTransport: HalfCloseableTransport {
    /// Sends an open file descriptor to the peer (SCM_RIGHTS) along with
    /// the next bytes written. The descriptor stays owned by the caller.
    func sendFileDescriptor(_ descriptor: Int32) throws
}

/// A TLS connection layered over a stream transport (Twisted's
/// `ISSLTransport`).
public protocol TLSTransport: Transport {
    /// The peer's certificate in DER form, once the handshake completed.
    var peerCertificateDER: [UInt8]? { get }
    /// The ALPN protocol agreed in the handshake, if any.
    var negotiatedProtocol: String? { get }
}

/// The parent's side of a child process's pipes (Twisted's
/// `IProcessTransport`). Writes go to the child's standard input.
public protocol ProcessTransport: Transport {
    /// The child's process id, `nil` once it was reaped.
    var pid: Int32? { get }
    /// Closes the child's standard input.
    func closeStdin()
    /// Closes our end of the child's standard output.
    func closeStdout()
    /// Closes our end of the child's standard error.
    func closeStderr()
    /// Closes the pipe mapped to the child's descriptor `childFD`.
    func closeChildFD(_ childFD: Int32)
    /// Writes `data` to the pipe mapped to the child's descriptor `childFD`.
    func writeToChild(_ childFD: Int32, _ data: [UInt8])
    /// Sends `signal` (for example `SIGTERM`) to the child.
    ///
    /// - Throws: when the process has already exited.
    func signalProcess(_ signal: Int32) throws
}

/// A bound datagram socket as seen by its ``DatagramProtocol`` (Twisted's
/// `IUDPTransport` / `IUNIXDatagramTransport`). Reactor thread only.
public protocol DatagramTransport: AnyObject {
    /// Sends one datagram to `address` (or to the connected peer when `nil`).
    /// Datagrams larger than the socket allows are dropped with an error.
    func write(_ datagram: [UInt8], to address: (any Address)?) throws
    /// Restricts the socket to one peer; writes then need no address.
    func connect(to address: any Address) throws
    /// The bound local address.
    var host: any Address { get }
    /// Closes the socket; ``DatagramProtocol/stopProtocol()`` follows.
    func stopListening() -> Deferred<Void>
}

/// A stream protocol that wants to know when each half of the connection
/// closes (Twisted's `IHalfCloseableProtocol`). Without this, an EOF from
/// the peer closes the whole connection.
public protocol HalfCloseableProtocol: AnyObject {
    /// The peer finished sending (EOF); writing is still possible.
    func readConnectionLost()
    /// Our writing half is closed (after ``HalfCloseableTransport/loseWriteConnection()``).
    func writeConnectionLost()
}
