/// The handler of one stream connection: Twisted's `Protocol`. Subclass it
/// and override the events you care about.
///
/// A protocol instance lives for one connection: ``makeConnection(_:)``
/// attaches the transport and calls ``connectionMade()``, every read is
/// handed to ``dataReceived(_:)``, and ``connectionLost(reason:)`` is
/// called exactly once at the end, after which the reactor keeps no
/// reference to it. Reactor thread only.
open class Protocol {
    /// The transport this protocol writes to; set by ``makeConnection(_:)``.
    /// Holding it strongly is safe: the reactor releases the transport's
    /// reference to the protocol after ``connectionLost(reason:)``.
    @exclusivity(unchecked) public var transport: (any Transport)?

    /// `true` between ``makeConnection(_:)`` and ``connectionLost(reason:)``.
    public var connected = false

    /// The factory that built this protocol, if any (set by
    /// ``Factory/buildProtocol(address:)``).
    public var factory: Factory?

    /// Makes a protocol that is not connected yet.
    public init() {}

    /// Attaches `transport` and calls ``connectionMade()``. Transports call
    /// this once per connection; override ``connectionMade()`` instead.
    open func makeConnection(_ transport: any Transport) {
        connected = true
        self.transport = transport
        connectionMade()
    }

    /// The connection is established; ``transport`` is ready for writes.
    open func connectionMade() {}

    /// Bytes arrived. Chunking is arbitrary: one message may arrive in
    /// several calls and several messages in one (use a receiver from
    /// TorsionProtocols to get whole messages).
    open func dataReceived(_ data: [UInt8]) {}

    /// The connection ended: `reason` holds ``ConnectionDone`` for a clean
    /// close, ``ConnectionLost`` or another error otherwise. Called once.
    open func connectionLost(reason: Failure) {
        connected = false
    }
}

/// The handler of a datagram socket: Twisted's `DatagramProtocol`. One
/// instance serves every peer; subclass and override ``datagramReceived(_:from:)``.
/// Reactor thread only.
open class DatagramProtocol {
    /// The socket this protocol sends on, set when the port starts.
    public var transport: (any DatagramTransport)?

    /// Number of ports this protocol is listening on; ``startProtocol()``
    /// runs when it becomes 1 and ``stopProtocol()`` when it returns to 0.
    public private(set) var numPorts = 0

    /// Makes a protocol attached to nothing.
    public init() {}

    /// Called by a port when it starts with this protocol. Override
    /// ``startProtocol()`` instead.
    open func makeConnection(_ transport: any DatagramTransport) {
        self.transport = transport
        doStart()
    }

    /// Reference-counts ports; calls ``startProtocol()`` on the first.
    public func doStart() {
        if numPorts == 0 { startProtocol() }
        numPorts += 1
    }

    /// Reference-counts ports; calls ``stopProtocol()`` after the last.
    public func doStop() {
        guard numPorts > 0 else { return }
        numPorts -= 1
        if numPorts == 0 {
            stopProtocol()
            transport = nil
        }
    }

    /// The protocol started listening.
    open func startProtocol() {}

    /// The protocol stopped listening.
    open func stopProtocol() {}

    /// A datagram arrived from `address`.
    open func datagramReceived(_ datagram: [UInt8], from address: any Address) {}

    /// A previous datagram to a connected peer was refused (ICMP port
    /// unreachable); only delivered on connected sockets.
    open func connectionRefused() {}
}

/// The parent's handler of a child process: Twisted's `ProcessProtocol`.
/// Reactor thread only.
open class ProcessProtocol {
    /// The child's pipes, set by ``makeConnection(_:)``.
    public var transport: (any ProcessTransport)?

    /// Makes a protocol attached to no process.
    public init() {}

    /// Attaches the process transport and calls ``connectionMade()``.
    open func makeConnection(_ transport: any ProcessTransport) {
        self.transport = transport
        connectionMade()
    }

    /// The process was started.
    open func connectionMade() {}

    /// The child wrote `data` on descriptor `childFD`; by default 1 goes to
    /// ``outReceived(_:)`` and 2 to ``errReceived(_:)``.
    open func childDataReceived(_ childFD: Int32, _ data: [UInt8]) {
        switch childFD {
        case 1: outReceived(data)
        case 2: errReceived(data)
        default: break
        }
    }

    /// The child wrote to its standard output.
    open func outReceived(_ data: [UInt8]) {}

    /// The child wrote to its standard error.
    open func errReceived(_ data: [UInt8]) {}

    /// The pipe for descriptor `childFD` closed; by default 0, 1 and 2 are
    /// forwarded to the `in`/`out`/`err` variants.
    open func childConnectionLost(_ childFD: Int32) {
        switch childFD {
        case 0: inConnectionLost()
        case 1: outConnectionLost()
        case 2: errConnectionLost()
        default: break
        }
    }

    /// The child's standard input was closed.
    open func inConnectionLost() {}

    /// The child's standard output was closed.
    open func outConnectionLost() {}

    /// The child's standard error was closed.
    open func errConnectionLost() {}

    /// The child exited (``ProcessDone`` or ``ProcessTerminated``); its
    /// pipes may still be open.
    open func processExited(reason: Failure) {}

    /// The child exited and all its pipes are closed; the last event.
    open func processEnded(reason: Failure) {}
}
