import Glibc
import TorsionCore

/// An outgoing stream connection, TCP or UNIX, and its attempts: Twisted's
/// `tcp.Connector` / `unix.Connector`, returned by `connectTCP` and
/// `connectUNIX`.
///
/// States: disconnected → connecting → connected → disconnected. Each
/// ``connect()`` starts an attempt: the factory is started (once until
/// it is stopped again), ``ClientFactory/startedConnecting(_:)`` is told,
/// and on the next turn the host name is resolved with the reactor's
/// `resolve` (``DNSLookupError``), a socket made (bound to the bind
/// address, if any) and connected through the engine. The attempt fails
/// with ``TimeoutError`` after the timeout, ``ConnectionRefused`` for
/// `ECONNREFUSED`, ``ConnectingCancelledError`` after
/// ``stopConnecting()``, ``ConnectError`` otherwise; the factory hears
/// ``ClientFactory/clientConnectionFailed(_:reason:)``. A connection that
/// ends reports ``ClientFactory/clientConnectionLost(_:reason:)``. Either
/// handler may call ``connect()`` to try again; if it does not, the factory
/// is stopped. The reactor's shutdown fails an attempt in progress.
///
/// Reactor thread only. Holds its reactor unowned: a connector does not
/// outlive its reactor.
final class StreamConnector: Connector {
    /// What to connect to.
    enum Target {
        /// A TCP host (IP literal or name to resolve) and port, from a
        /// local address when `bindAddress` is given.
        case tcp(host: String, port: Int, bindAddress: BindAddress?)
        /// A UNIX socket path (a leading NUL: abstract name).
        case unix(path: String)
    }

    /// One connection attempt: what must be undone when it ends.
    private final class Attempt {
        /// Set once the attempt failed or connected: late completions
        /// (a resolution, a connect) are ignored.
        var ended = false
        var descriptor: Int32 = -1
        var startCall: DelayedCall?
        var timeoutCall: DelayedCall?
        var shutdownTrigger: SystemEventTriggerID?
        /// The name resolution in flight, cancelled when the attempt ends
        /// so its own timeout timer goes too.
        var resolution: Deferred<Void>?
    }

    private enum State {
        case disconnected
        case connecting(Attempt)
        case connected(StreamConnection)
    }

    /// What moves the connector from one ``State`` to the next.
    private enum Event {
        /// ``connect()`` started an attempt.
        case attemptStarted(Attempt)
        /// The attempt failed, was stopped, or its protocol was refused.
        case attemptEnded
        /// The attempt connected and the factory built a protocol.
        case connectionMade(StreamConnection)
        /// The connection delivered `connectionLost`.
        case connectionEnded
    }

    /// The one place the state changes. Any other pair is a bug in the
    /// connector, not a caller's mistake (callers' calls are checked
    /// before), so it traps.
    private func transition(_ event: Event) {
        switch (state, event) {
        case (.disconnected, .attemptStarted(let attempt)): state = .connecting(attempt)
        case (.connecting, .attemptEnded): state = .disconnected
        case (.connecting, .connectionMade(let connection)): state = .connected(connection)
        case (.connected, .connectionEnded): state = .disconnected
        default: preconditionFailure("StreamConnector: \(event) while \(stateName)")
        }
    }

    // MARK: Reactor thread only

    private unowned let reactor: Reactor
    /// The factory told about each attempt and connection.
    let factory: ClientFactory
    private let target: Target
    /// Seconds an attempt may take (name resolution included); 0 or less:
    /// no limit.
    let timeout: Double
    private var state = State.disconnected
    /// Whether `factory.doStart()` was called without its `doStop()` yet.
    private var factoryStarted = false

    /// A connector that is not connecting yet; call ``connect()``.
    init(reactor: Reactor, target: Target, factory: ClientFactory, timeout: Double) {
        self.reactor = reactor
        self.target = target
        self.factory = factory
        self.timeout = timeout
    }

    /// The address being connected to, as given (an unresolved name stays
    /// a name): `IPv4Address`/`IPv6Address` (a host containing `:`) or
    /// `UNIXAddress`.
    var destination: any Address {
        switch target {
        case .tcp(let host, let port, _):
            host.contains(":") ? IPv6Address(.tcp, host: host, port: port) : IPv4Address(.tcp, host: host, port: port)
        case .unix(let path): UNIXAddress(path)
        }
    }

    /// `"connecting"`, `"connected"` or `"disconnected"`, as Twisted's
    /// `Connector.state`.
    var stateName: String {
        switch state {
        case .disconnected: "disconnected"
        case .connecting: "connecting"
        case .connected: "connected"
        }
    }

    /// Starts an attempt; ignored unless disconnected (Twisted raises
    /// there, but `connect()` cannot throw in this protocol, and a second
    /// attempt on top of the first has no meaning).
    func connect() {
        guard case .disconnected = state else { return }
        let attempt = Attempt()
        transition(.attemptStarted(attempt))
        if !factoryStarted {
            factory.doStart()
            factoryStarted = true
        }
        if timeout > 0 {
            attempt.timeoutCall = reactor.callLater(timeout) { [self] in
                attempt.timeoutCall = nil
                fail(attempt, TimeoutError(seconds: timeout))
            }
        }
        // As Twisted, the work starts on the next turn, so that
        // startedConnecting runs first and may still stop the attempt.
        attempt.startCall = reactor.callLater(0) { [self] in
            attempt.startCall = nil
            begin(attempt)
        }
        attempt.shutdownTrigger = reactor.addSystemEventTrigger(.during, .shutdown) { [self] in
            attempt.shutdownTrigger = nil
            fail(attempt, ConnectError("the reactor shut down"))
            return nil
        }
        factory.startedConnecting(self)
    }

    /// Abandons the attempt in progress: the factory's
    /// ``ClientFactory/clientConnectionFailed(_:reason:)`` receives
    /// ``ConnectingCancelledError`` before this returns.
    ///
    /// - Throws: ``NotConnectingError`` unless connecting.
    func stopConnecting() throws {
        guard case .connecting(let attempt) = state else { throw NotConnectingError() }
        fail(attempt, ConnectingCancelledError())
    }

    /// Stops the attempt in progress, or closes the connection
    /// (`loseConnection`: queued bytes are sent first). Nothing when
    /// disconnected.
    func disconnect() {
        switch state {
        case .connecting(let attempt): fail(attempt, ConnectingCancelledError())
        case .connected(let connection): connection.loseConnection()
        case .disconnected: break
        }
    }

    // MARK: The attempt

    private func isCurrent(_ attempt: Attempt) -> Bool {
        guard !attempt.ended, case .connecting(let current) = state else { return false }
        return current === attempt
    }

    private func begin(_ attempt: Attempt) {
        switch target {
        case .unix(let path):
            connect(attempt, to: .unix(UNIXAddress(path)), bindAddress: nil)
        case .tcp(let host, let port, let bindAddress):
            if let address = Self.literalAddress(host: host, port: port) {
                return connect(attempt, to: address, bindAddress: bindAddress)
            }
            attempt.resolution = reactor.resolve(host).addBoth { [self] result in
                attempt.resolution = nil
                guard isCurrent(attempt) else { return }
                switch result {
                case .success(let ip):
                    let address = Self.literalAddress(host: ip, port: port) ?? .ipv4(IPv4Address(host: ip, port: port))
                    connect(attempt, to: address, bindAddress: bindAddress)
                case .failure(let failure):
                    fail(attempt, failure.error)
                }
            }
        }
    }

    /// `host` as an IPv4 or IPv6 address when it is a numeric literal.
    private static func literalAddress(host: String, port: Int) -> SocketAddress? {
        var ipv4 = in_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 { return .ipv4(IPv4Address(.tcp, host: host, port: port)) }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, host, &ipv6) == 1 { return .ipv6(IPv6Address(.tcp, host: host, port: port)) }
        return nil
    }

    private func connect(_ attempt: Attempt, to address: SocketAddress, bindAddress: BindAddress?) {
        do {
            attempt.descriptor = try Socket.makeSocket(family: address.family, kind: .stream)
        } catch {
            return fail(attempt, ConnectError(error.description))
        }
        reactor.adoptDescriptor(attempt.descriptor)
        if let bindAddress {
            let local: SocketAddress =
                address.family == AF_INET6
                ? .ipv6(IPv6Address(.tcp, host: bindAddress.host, port: bindAddress.port))
                : .ipv4(IPv4Address(.tcp, host: bindAddress.host, port: bindAddress.port))
            do {
                try Socket.bind(attempt.descriptor, to: local)
            } catch {
                return fail(attempt, ConnectError("couldn't bind to \(local): \(error)"))
            }
        }
        do {
            try reactor.engine.connect(attempt.descriptor, to: address) { [self] result in
                guard isCurrent(attempt) else { return }
                switch result {
                case .success: connected(attempt, to: address)
                case .failure(let error): fail(attempt, Self.connectError(error))
                }
            }
        } catch SocketOperationError.system(let error) {
            fail(attempt, Self.connectError(error))
        } catch {
            fail(attempt, ConnectError("\(error)"))
        }
    }

    /// The connection error Twisted reports for a failed `connect`.
    private static func connectError(_ error: SystemError) -> any Error {
        switch error.errno {
        case ECONNREFUSED: ConnectionRefused(error.description)
        case ETIMEDOUT: TimeoutError()
        default: ConnectError(error.description)
        }
    }

    /// Ends the attempt and undoes what it set up; the descriptor stays
    /// open unless `closing`.
    private func finish(_ attempt: Attempt, closing: Bool) {
        attempt.ended = true
        attempt.resolution?.cancel()
        attempt.resolution = nil
        if let call = attempt.startCall, call.isActive { try? call.cancel() }
        if let call = attempt.timeoutCall, call.isActive { try? call.cancel() }
        if let trigger = attempt.shutdownTrigger { reactor.removeSystemEventTrigger(trigger) }
        attempt.startCall = nil
        attempt.timeoutCall = nil
        attempt.shutdownTrigger = nil
        if closing, attempt.descriptor >= 0 {
            reactor.engine.cancelConnect(attempt.descriptor)
            reactor.closeDescriptor(attempt.descriptor)
            attempt.descriptor = -1
        }
    }

    /// Twisted's `failIfNotConnected`: ends the attempt, if it is still
    /// the current one, and tells the factory.
    private func fail(_ attempt: Attempt, _ error: any Error) {
        guard isCurrent(attempt) else { return }
        finish(attempt, closing: true)
        transition(.attemptEnded)
        factory.clientConnectionFailed(self, reason: Failure(error))
        stopFactoryUnlessReconnecting()
    }

    private func connected(_ attempt: Attempt, to address: SocketAddress) {
        finish(attempt, closing: false)
        let descriptor = attempt.descriptor
        let peer = (try? Socket.peerAddress(descriptor)) ?? address
        guard let built = factory.buildProtocol(address: peer.address) else {
            reactor.closeDescriptor(descriptor)
            transition(.attemptEnded)
            factory.clientConnectionFailed(self, reason: Failure(ConnectError("the factory built no protocol")))
            return stopFactoryUnlessReconnecting()
        }
        let host = (try? Socket.localAddress(descriptor)) ?? .unix(UNIXAddress(nil))
        let connection = reactor.makeStreamConnection(descriptor: descriptor, host: host, peer: peer)
        transition(.connectionMade(connection))
        connection.start(protocol: built) { [self] reason in
            transition(.connectionEnded)
            factory.clientConnectionLost(self, reason: reason)
            stopFactoryUnlessReconnecting()
        }
    }

    /// After the factory was told of a failure or a loss: unless it called
    /// ``connect()`` again, it is stopped.
    private func stopFactoryUnlessReconnecting() {
        guard case .disconnected = state, factoryStarted else { return }
        factoryStarted = false
        factory.doStop()
    }
}
