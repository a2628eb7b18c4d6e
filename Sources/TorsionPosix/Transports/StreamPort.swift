import Glibc
import TorsionCore

/// A listening stream socket, TCP or UNIX: the one implementation of
/// Twisted's `tcp.Port` and `unix.Port` (they differ only in how the
/// socket is made, see ``Endpoint``). Returned by `listenTCP`,
/// `listenUNIX` and `adoptStreamPort`.
///
/// Accepting goes through the reactor's engine (multishot
/// ``IOEngine/accept(_:handler:)``); each connection gets a protocol from
/// the factory (`nil` closes it at once) and a ``StreamConnection``. The
/// factory is started when listening starts and stopped after
/// ``stopListening()``, whose Deferred fires after that. The reactor's
/// shutdown stops the port the same way (a `before shutdown` trigger).
///
/// Out of descriptors (`EMFILE`/`ENFILE`), the port sheds the queued
/// connection with the reserve-descriptor trick: it keeps one spare
/// descriptor open, closes it to accept the connection, closes the
/// connection and reopens the spare. The listener keeps working, the
/// client sees its connection closed and the loop does not spin on a
/// listener that stays readable. Without a spare (another thread took the
/// slot) the port stops accepting for ``acceptBackoff`` seconds.
///
/// Reactor thread only. Holds its reactor unowned: a port does not
/// outlive its reactor.
final class StreamPort: ListeningPort {
    /// Where the listening socket comes from.
    enum Endpoint {
        /// Bind an IPv4 or IPv6 address (`SO_REUSEADDR`, and
        /// `SO_REUSEPORT` when asked).
        case tcp(SocketAddress, reusePort: Bool)
        /// Bind a UNIX path (replacing a stale socket file, applying
        /// `mode`) or an abstract name.
        case unix(UNIXAddress, mode: UInt32)
        /// A listening socket the reactor already owns (a duplicate made
        /// by `adoptStreamPort`); it cannot listen again once stopped.
        case adopted(descriptor: Int32)
    }

    private enum State {
        case notListening
        case listening(descriptor: Int32)
    }

    // MARK: Reactor thread only

    private unowned let reactor: Reactor
    /// Builds a protocol for each accepted connection.
    let factory: Factory
    private var endpoint: Endpoint
    private let backlog: Int
    private var state = State.notListening
    /// The bound address once listening (the requested one before).
    private(set) var address: SocketAddress
    /// The socket file to remove on stop, for a UNIX path.
    private var socketFile: UNIXSocketFile?
    /// The reserve descriptor of the `EMFILE` trick; -1 when not open.
    private var reserve: Int32 = -1
    /// The reserve was just closed to make room: the next accepted
    /// connection is closed, not served.
    private var shedding = false
    /// Resumes accepting after a pause for lack of descriptors.
    private var resumeCall: DelayedCall?
    /// Ends a shedding that found no connection, at the end of the turn.
    private var sheddingEnd: DelayedCall?
    /// How long accepting pauses when the process is out of descriptors
    /// and has no reserve to shed with: a second, as NIO's default accept
    /// back-off, long enough for connections to close and free some.
    var acceptBackoff = 1.0
    /// Stops the port when the reactor shuts down.
    private var shutdownTrigger: SystemEventTriggerID?

    /// A port for `endpoint` that is not listening yet; ``startListening()``
    /// opens it.
    init(reactor: Reactor, endpoint: Endpoint, factory: Factory, backlog: Int) {
        self.reactor = reactor
        self.endpoint = endpoint
        self.factory = factory
        self.backlog = backlog
        switch endpoint {
        case .tcp(let address, _): self.address = address
        case .unix(let address, _): self.address = .unix(address)
        case .adopted(let descriptor):
            self.address = (try? Socket.localAddress(descriptor)) ?? .unix(UNIXAddress(nil))
        }
    }

    /// The bound address; with port 0, the port the system chose.
    var host: any Address { address.address }

    /// `true` while accepting connections.
    var listening: Bool {
        if case .listening = state { return true }
        return false
    }

    /// The listening socket, while listening.
    var descriptor: Int32? {
        if case .listening(let descriptor) = state { return descriptor }
        return nil
    }

    /// Opens the socket (binding and listening), starts the factory and
    /// starts accepting. Does nothing while already listening.
    ///
    /// - Throws: ``CannotListenError`` when the address cannot be bound
    ///   (in use, permission, invalid), the socket cannot be watched, or
    ///   an adopted socket is asked to listen again; nothing is left open.
    func startListening() throws {
        guard case .notListening = state else { return }
        let descriptor = try openSocket()
        reactor.adoptDescriptor(descriptor)
        do {
            try reactor.engine.accept(descriptor) { [self] result in accepted(result) }
        } catch {
            reactor.closeDescriptor(descriptor)
            removeSocketFile()
            throw CannotListenError(interface: interfaceName, port: portName, reason: "\(error)")
        }
        state = .listening(descriptor: descriptor)
        if let bound = try? Socket.localAddress(descriptor) { address = bound }
        openReserve()
        factory.doStart()
        shutdownTrigger = reactor.addSystemEventTrigger(.before, .shutdown) { [self] in
            shutdownTrigger = nil
            return stopListening()
        }
    }

    /// Stops accepting and closes the socket at once (a UNIX socket file
    /// is removed); the factory is stopped on the next turn of the loop,
    /// then the Deferred fires. Connections already accepted are not
    /// affected. When not listening, an already fired Deferred.
    @discardableResult
    func stopListening() -> Deferred<Void> {
        guard case .listening(let descriptor) = state else { return succeed() }
        state = .notListening
        reactor.engine.cancelAccept(descriptor)
        reactor.closeDescriptor(descriptor)
        if case .adopted = endpoint { endpoint = .adopted(descriptor: -1) }
        removeSocketFile()
        closeReserve()
        shedding = false
        for call in [resumeCall, sheddingEnd] {
            if let call, call.isActive { try? call.cancel() }
        }
        resumeCall = nil
        sheddingEnd = nil
        if let shutdownTrigger { reactor.removeSystemEventTrigger(shutdownTrigger) }
        shutdownTrigger = nil
        let stopped = Deferred<Void>()
        // Should the reactor shut down before the next turn, it waits for
        // the factory to stop (on its own Deferred, so the shutdown's
        // callbacks do not touch the caller's).
        let shutdownWait = Deferred<Void>()
        let waitTrigger = reactor.addSystemEventTrigger(.before, .shutdown) { shutdownWait }
        // As Twisted, the factory stops (and the Deferred fires) on the
        // next turn, never inside the caller's stack.
        reactor.callLater(0) { [unowned reactor, factory] in
            factory.doStop()
            reactor.removeSystemEventTrigger(waitTrigger)
            try? shutdownWait.callback(())
            try? stopped.callback(())
        }
        return stopped
    }

    // MARK: Accepting

    private func accepted(_ result: AcceptResult) {
        switch result {
        case .accepted(let descriptor, let peer):
            reactor.adoptDescriptor(descriptor)
            if shedding {
                shedding = false
                reactor.closeDescriptor(descriptor)
                openReserve()
                return
            }
            serve(descriptor, peer: peer)
        case .failed(let error):
            switch error.errno {
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: outOfResources(error)
            // Anything else (a connection that failed before it was
            // accepted, a firewall's EPERM) concerns one connection only.
            default: break
            }
        }
    }

    private func serve(_ descriptor: Int32, peer: SocketAddress) {
        guard let built = factory.buildProtocol(address: peer.address) else {
            return reactor.closeDescriptor(descriptor)
        }
        let local = (try? Socket.localAddress(descriptor)) ?? address
        let connection = reactor.makeStreamConnection(descriptor: descriptor, host: local, peer: peer)
        connection.start(protocol: built) { _ in }
    }

    /// `accept` failed for lack of descriptors or memory: shed the queued
    /// connection with the reserve (the engine accepts again at once), or
    /// pause when there is none, so a listener that stays readable does
    /// not make the loop spin.
    private func outOfResources(_ error: SystemError) {
        let isDescriptorLimit = error.errno == EMFILE || error.errno == ENFILE
        if isDescriptorLimit, reserve >= 0, !shedding {
            closeReserve()
            shedding = true
            // The connection may vanish before the retried accept, and the
            // kernel fails an accept with EMFILE before it looks at the
            // queue, so the accept after a shed one gives the reserve up
            // again: either way, stop shedding at the end of this turn and
            // take the reserve back. One reset per turn covers every shed.
            if sheddingEnd == nil {
                sheddingEnd = reactor.callLater(0) { [self] in
                    sheddingEnd = nil
                    guard shedding else { return }
                    shedding = false
                    openReserve()
                }
            }
            return
        }
        guard case .listening(let descriptor) = state, resumeCall == nil else { return }
        reactor.engine.cancelAccept(descriptor)
        resumeCall = reactor.callLater(acceptBackoff) { [self] in
            resumeCall = nil
            guard case .listening(let descriptor) = state else { return }
            openReserve()
            do {
                try reactor.engine.accept(descriptor) { [self] result in accepted(result) }
            } catch {
                // The engine took this descriptor before; if it cannot
                // now, the port can no longer accept.
                stopListening()
            }
        }
    }

    /// Opens the reserve descriptor if it is not open; failing (out of
    /// descriptors already) leaves it closed.
    private func openReserve() {
        guard reserve < 0 else { return }
        let descriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        reserve = descriptor
        reactor.adoptDescriptor(descriptor)
    }

    private func closeReserve() {
        guard reserve >= 0 else { return }
        reactor.closeDescriptor(reserve)
        reserve = -1
    }

    /// `true` while the reserve descriptor is open (tests).
    var hasReserve: Bool { reserve >= 0 }

    // MARK: Opening

    private func openSocket() throws(CannotListenError) -> Int32 {
        switch endpoint {
        case .tcp(let address, let reusePort):
            return try Socket.makeListeningSocket(on: address, backlog: backlog, reusePort: reusePort)
        case .unix(let address, let mode):
            let (descriptor, file) = try UNIXSocketFile.listen(on: address, backlog: backlog, mode: mode)
            socketFile = file
            return descriptor
        case .adopted(let descriptor):
            guard descriptor >= 0 else {
                throw CannotListenError(
                    interface: interfaceName, port: portName,
                    reason: "an adopted socket is closed by stopListening and cannot listen again")
            }
            return descriptor
        }
    }

    private func removeSocketFile() {
        socketFile?.remove()
        socketFile = nil
    }

    private var interfaceName: String {
        switch address {
        case .ipv4(let ip): ip.host
        case .ipv6(let ip): ip.host
        case .unix: "unix"
        }
    }

    private var portName: String {
        switch address {
        case .ipv4(let ip): String(ip.port)
        case .ipv6(let ip): String(ip.port)
        case .unix(let unix): unix.name ?? ""
        }
    }
}
