/// The phase of a system event at which a trigger runs; see
/// ``ReactorCore/addSystemEventTrigger(_:_:_:)``.
public enum SystemEventPhase: String, Sendable, Hashable, CaseIterable {
    /// Runs first; a trigger returning a Deferred delays the `during` phase
    /// until it fires.
    case before
    /// Runs once every `before` trigger's Deferred fired.
    case during
    /// Runs last.
    case after
}

/// A system event that triggers can be attached to. `shutdown` is fired by
/// ``ReactorCore/stop()``; `startup` when the reactor starts running.
public struct SystemEvent: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral {
    /// The event's name.
    public let rawValue: String
    /// Makes an event by name.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Makes an event from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// Fired when the reactor starts.
    public static let startup: SystemEvent = "startup"
    /// Fired when the reactor stops.
    public static let shutdown: SystemEvent = "shutdown"
}

/// The handle returned by ``ReactorCore/addSystemEventTrigger(_:_:_:)``,
/// used to remove the trigger.
public struct SystemEventTriggerID: Hashable, Sendable {
    /// The event the trigger is attached to.
    public let event: SystemEvent
    /// The phase it runs in.
    public let phase: SystemEventPhase
    /// A number unique within the reactor.
    public let serial: UInt64
    /// Makes an identifier; reactors call this.
    public init(event: SystemEvent, phase: SystemEventPhase, serial: UInt64) {
        self.event = event
        self.phase = phase
        self.serial = serial
    }
}

/// Running and stopping the loop, system event triggers and name
/// resolution: Twisted's `IReactorCore`. Reactor thread only unless stated.
public protocol ReactorCore: AnyObject {
    /// `true` between the start of ``run()`` and the end of shutdown.
    var running: Bool { get }

    /// Runs the loop until ``stop()`` (or ``crash()``), firing the
    /// `startup` event first and the `shutdown` event at the end.
    ///
    /// - Throws: ``ReactorAlreadyRunning`` when called while running,
    ///   ``ReactorNotRestartable`` after the reactor has stopped.
    func run() throws

    /// Asks the loop to stop: the current turn completes, then the
    /// `shutdown` triggers run (before → during → after) and ``run()``
    /// returns.
    ///
    /// - Throws: ``ReactorNotRunning`` when the reactor is not running or
    ///   already stopping.
    func stop() throws

    /// Stops the loop at once without running shutdown triggers; for tests
    /// and emergencies.
    func crash()

    /// Runs one turn of the loop, waiting at most `delay` seconds for I/O.
    func iterate(delay: Double)

    /// Calls `function` once the reactor is running (at once if it already is).
    func callWhenRunning(_ function: @escaping () -> Void)

    /// Attaches `trigger` to `phase` of `event`. A `before` trigger may
    /// return a Deferred to delay the `during` phase until it fires.
    @discardableResult
    func addSystemEventTrigger(
        _ phase: SystemEventPhase,
        _ event: SystemEvent,
        _ trigger: @escaping () -> Deferred<Void>?
    ) -> SystemEventTriggerID

    /// Detaches a trigger; unknown identifiers are ignored.
    func removeSystemEventTrigger(_ id: SystemEventTriggerID)

    /// Runs the triggers of `event`, phase by phase.
    func fireSystemEvent(_ event: SystemEvent)

    /// Resolves a host name to one address (textual IPv4 or IPv6), off the
    /// reactor thread; fails with ``DNSLookupError``.
    func resolve(_ name: String, timeout: Double) -> Deferred<String>
}

extension ReactorCore {
    /// Resolves with Twisted's default timeout of 60 seconds in total.
    public func resolve(_ name: String) -> Deferred<String> { resolve(name, timeout: 60) }

    /// Runs one turn without waiting for I/O.
    public func iterate() { iterate(delay: 0) }
}
