import TorsionCore

/// A reactor that performs no I/O and records what is asked of it:
/// Twisted's `MemoryReactor` (`twisted.internet.testing`).
///
/// Every `listen…`, `connect…`, `adopt…` and `spawnProcess` call is
/// appended to a public array of records (``tcpServers``, ``tcpClients``,
/// …) and answered with a fake object: a ``MemoryListeningPort``, a
/// ``MemoryConnector`` (its factory is told ``TorsionCore/ClientFactory/startedConnecting(_:)``
/// at once, as in Twisted), a ``MemoryDatagramPort`` or a
/// ``MemoryProcessTransport``. Nothing ever connects by itself: the test
/// drives the fakes (``MemoryConnector/completeConnection(transport:)``,
/// ``MemoryConnector/connectionFailed(reason:)``…).
///
/// The core behaves like a real reactor without a loop: ``run()`` fires the
/// `startup` event and returns with the reactor running (Twisted's fake
/// stops at once instead; here the test calls ``stop()`` when it wants
/// shutdown), and ``stop()`` fires the `shutdown` event phase by phase,
/// waiting for Deferreds returned by `before` triggers. ``MemoryReactorClock``
/// adds time. Test thread only.
public class MemoryReactor: ReactorCore {
    // MARK: Core state

    /// `true` from ``run()`` until shutdown completed (or ``crash()``).
    public private(set) var running = false

    /// `true` once ``run()`` was called.
    public private(set) var hasRun = false

    /// `true` once ``stop()`` was called; shutdown may still be waiting for
    /// a `before` trigger's Deferred (then ``running`` is still `true`).
    public private(set) var hasStopped = false

    /// `true` once ``crash()`` was called.
    public private(set) var hasCrashed = false

    /// Number of ``iterate(delay:)`` calls.
    public private(set) var iterationCount = 0

    let triggers = SystemEventTriggers()

    /// The system event triggers still registered, in registration order;
    /// triggers are consumed when their event fires.
    public var registeredTriggers: [SystemEventTriggerID] { triggers.registered }

    /// Failures of Deferreds returned by `before` triggers. The event went
    /// on regardless; the failure is consumed and kept here.
    public var triggerFailures: [Failure] { triggers.failures }

    // MARK: Resolution

    /// The answers of ``resolve(_:timeout:)``: host name → textual address.
    /// A name absent from it that is not an IP literal fails with
    /// ``TorsionCore/DNSLookupError``.
    public var hostAddresses: [String: String] = [:]

    /// One ``resolve(_:timeout:)`` call.
    public struct ResolveCall {
        /// The name asked for.
        public let name: String
        /// The timeout given, in seconds.
        public let timeout: Double
    }

    /// Every ``resolve(_:timeout:)`` call, in order.
    public private(set) var resolveCalls: [ResolveCall] = []

    // MARK: Records of listen, connect, adopt and spawn calls

    /// When set, every `listen…` and `adopt…` call throws it instead of
    /// recording the call: Twisted's `RaisingMemoryReactor`, for testing
    /// the failure path (typically a ``TorsionCore/CannotListenError``).
    public var listenError: (any Error)?

    /// Every `listenTCP` call that succeeded.
    public internal(set) var tcpServers: [TCPServer] = []
    /// Every `connectTCP` call.
    public internal(set) var tcpClients: [TCPClient] = []
    /// Every `listenSSL` call that succeeded.
    public internal(set) var sslServers: [SSLServer] = []
    /// Every `connectSSL` call.
    public internal(set) var sslClients: [SSLClient] = []
    /// Every `listenUNIX` call that succeeded.
    public internal(set) var unixServers: [UNIXServer] = []
    /// Every `connectUNIX` call.
    public internal(set) var unixClients: [UNIXClient] = []
    /// Every `listenUDP` call that succeeded.
    public internal(set) var udpPorts: [UDPPort] = []
    /// Every `listenMulticast` call that succeeded.
    public internal(set) var multicastPorts: [MulticastPortRecord] = []
    /// Every `listenUNIXDatagram` and `connectUNIXDatagram` call that
    /// succeeded.
    public internal(set) var unixDatagramPorts: [UNIXDatagramPort] = []
    /// Every `adoptStreamPort` call that succeeded.
    public internal(set) var adoptedPorts: [AdoptedPort] = []
    /// Every `adoptStreamConnection` call that succeeded.
    public internal(set) var adoptedStreamConnections: [AdoptedStreamConnection] = []
    /// Every `adoptDatagramPort` call that succeeded.
    public internal(set) var adoptedDatagramPorts: [AdoptedDatagramPort] = []
    /// Every `spawnProcess` call.
    public internal(set) var spawnedProcesses: [SpawnedProcess] = []
    /// Every connector handed out by `connectTCP`, `connectSSL` and
    /// `connectUNIX`, in order (Twisted's `connectors`).
    public internal(set) var connectors: [MemoryConnector] = []

    // MARK: Watched descriptors (ReactorFDSet)

    /// The descriptors watched for reading, each once, in the order added.
    public private(set) var readers: [any ReadDescriptor] = []
    /// The descriptors watched for writing, each once, in the order added.
    public private(set) var writers: [any WriteDescriptor] = []

    /// Makes a reactor that has not run and has recorded nothing.
    public init() {}

    // MARK: ReactorCore

    /// Starts the reactor: sets ``running`` and ``hasRun`` and fires the
    /// `startup` event, which runs the ``callWhenRunning(_:)`` functions.
    /// Returns at once, leaving the reactor running (there is no loop).
    ///
    /// - Throws: ``TorsionCore/ReactorAlreadyRunning`` while running,
    ///   ``TorsionCore/ReactorNotRestartable`` once it has run before.
    public func run() throws {
        if running { throw ReactorAlreadyRunning() }
        if hasRun { throw ReactorNotRestartable() }
        running = true
        hasRun = true
        triggers.fire(.startup)
    }

    /// Fires the `shutdown` event: `before` triggers run now; `during` and
    /// `after` triggers run once every Deferred returned by a `before`
    /// trigger fired, and ``running`` becomes `false` after them.
    ///
    /// - Throws: ``TorsionCore/ReactorNotRunning`` when not running or already
    ///   stopping.
    public func stop() throws {
        guard running, !hasStopped else { throw ReactorNotRunning() }
        hasStopped = true
        triggers.fire(.shutdown) { [weak self] in self?.running = false }
    }

    /// Sets ``hasCrashed`` and clears ``running`` without running any
    /// trigger.
    public func crash() {
        running = false
        hasCrashed = true
    }

    /// Counts the call in ``iterationCount``; a memory reactor has no I/O to
    /// wait for, and time (in ``MemoryReactorClock``) only moves with
    /// ``MemoryReactorClock/advance(_:)``.
    public func iterate(delay: Double) {
        iterationCount += 1
    }

    /// Calls `function` now when running, otherwise once the `startup`
    /// event ran (as an `after` trigger, like Twisted's reactor).
    public func callWhenRunning(_ function: @escaping () -> Void) {
        triggers.callWhenRunning(running: running, function)
    }

    /// Registers `trigger`; it runs once, the next time `event` fires.
    @discardableResult
    public func addSystemEventTrigger(
        _ phase: SystemEventPhase, _ event: SystemEvent, _ trigger: @escaping () -> Deferred<Void>?
    ) -> SystemEventTriggerID {
        triggers.add(phase, event, trigger)
    }

    /// Removes a trigger that has not run; anything else is ignored.
    public func removeSystemEventTrigger(_ id: SystemEventTriggerID) {
        triggers.remove(id)
    }

    /// Fires `event` phase by phase, as ``stop()`` does for `shutdown`.
    /// Ignored while the same event still waits for its `before`
    /// Deferreds.
    public func fireSystemEvent(_ event: SystemEvent) {
        triggers.fire(event)
    }

    /// Records the call and answers from ``hostAddresses``; an IPv4 or
    /// IPv6 literal resolves to itself. The Deferred has already fired.
    public func resolve(_ name: String, timeout: Double) -> Deferred<String> {
        resolveCalls.append(ResolveCall(name: name, timeout: timeout))
        if let address = hostAddresses[name] { return succeed(address) }
        if isIPLiteral(name) { return succeed(name) }
        return fail(DNSLookupError(host: name, reason: "no answer configured in the MemoryReactor"))
    }
}

// MARK: - ReactorFDSet

extension MemoryReactor: ReactorFDSet {
    /// Adds `reader` to ``readers`` unless it is there already.
    public func addReader(_ reader: any ReadDescriptor) {
        if !readers.contains(where: { $0 === reader }) { readers.append(reader) }
    }

    /// Adds `writer` to ``writers`` unless it is there already.
    public func addWriter(_ writer: any WriteDescriptor) {
        if !writers.contains(where: { $0 === writer }) { writers.append(writer) }
    }

    /// Removes `reader` from ``readers``; absent ones are ignored.
    public func removeReader(_ reader: any ReadDescriptor) {
        readers.removeAll { $0 === reader }
    }

    /// Removes `writer` from ``writers``; absent ones are ignored.
    public func removeWriter(_ writer: any WriteDescriptor) {
        writers.removeAll { $0 === writer }
    }

    /// Empties ``readers`` and ``writers`` and returns what they held, each
    /// descriptor once. No `connectionLost` is called.
    @discardableResult
    public func removeAll() -> [any FileDescriptorHandler] {
        var removed: [any FileDescriptorHandler] = readers
        for writer in writers where !removed.contains(where: { $0 === writer }) {
            removed.append(writer)
        }
        readers.removeAll()
        writers.removeAll()
        return removed
    }

    /// ``readers``.
    public func getReaders() -> [any ReadDescriptor] { readers }

    /// ``writers``.
    public func getWriters() -> [any WriteDescriptor] { writers }
}

/// `true` for a dotted-quad IPv4 address or anything containing a colon
/// (an IPv6 literal; a host name never contains one).
func isIPLiteral(_ name: String) -> Bool {
    if name.contains(":") { return true }
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4
        && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part).map { $0 <= 255 } == true
        }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
