/// Twisted's three-phase system events (`_ThreePhaseEvent`), shared by
/// every reactor (the running reactors and `MemoryReactor`): the triggers
/// of each event, and the firing of an event phase by phase.
///
/// Firing runs and consumes the `before` triggers (including ones added
/// while they run), waits for every Deferred they returned, then runs and
/// consumes the `during` and `after` triggers. A failed `before` Deferred
/// does not stop the event; its failure is kept in ``failures``.
/// Reactor thread only.
public final class SystemEventTriggers {
    private struct Trigger {
        let id: SystemEventTriggerID
        let function: () -> Deferred<Void>?
    }

    private var triggers: [SystemEvent: [SystemEventPhase: [Trigger]]] = [:]
    private var nextSerial: UInt64 = 0
    /// Events whose `before` phase ran and whose Deferreds are awaited.
    private var waiting: Set<SystemEvent> = []

    /// Failures of `before` triggers' Deferreds, in the order they arrived.
    public private(set) var failures: [Failure] = []

    /// The triggers still registered, in registration order.
    public var registered: [SystemEventTriggerID] {
        triggers.values.flatMap { $0.values.flatMap { $0.map(\.id) } }.sorted { $0.serial < $1.serial }
    }

    /// Makes an empty set of triggers.
    public init() {}

    /// Registers `function` to run once, the next time `event` fires, in
    /// `phase`; returns the handle that removes it.
    @discardableResult
    public func add(
        _ phase: SystemEventPhase, _ event: SystemEvent, _ function: @escaping () -> Deferred<Void>?
    ) -> SystemEventTriggerID {
        nextSerial += 1
        let id = SystemEventTriggerID(event: event, phase: phase, serial: nextSerial)
        triggers[event, default: [:]][phase, default: []].append(Trigger(id: id, function: function))
        return id
    }

    /// Twisted's `callWhenRunning` for a reactor that keeps its triggers
    /// here: calls `function` now when `running`, otherwise once the
    /// `startup` event ran (as an `after` trigger).
    public func callWhenRunning(running: Bool, _ function: @escaping () -> Void) {
        if running {
            function()
        } else {
            add(.after, .startup) {
                function()
                return nil
            }
        }
    }

    /// Removes a trigger that has not run; unknown handles are ignored.
    public func remove(_ id: SystemEventTriggerID) {
        triggers[id.event]?[id.phase]?.removeAll { $0.id == id }
    }

    /// Fires `event`, then calls `completion` once its `after` phase ran
    /// (at once when no `before` Deferred is pending). Returns `false`, and
    /// does nothing, while the same event is still waiting for its
    /// `before` Deferreds.
    @discardableResult
    public func fire(_ event: SystemEvent, completion: @escaping () -> Void = {}) -> Bool {
        guard !waiting.contains(event) else { return false }
        var pending: [Deferred<Void>] = []
        while let trigger = popFirst(.before, event) {
            if let deferred = trigger.function() { pending.append(deferred) }
        }
        waiting.insert(event)
        // One extra count, released after every Deferred got its handler,
        // so Deferreds that already fired cannot finish the phase early.
        var outstanding = pending.count + 1
        let finishOne = { [weak self] in
            outstanding -= 1
            if outstanding == 0 { self?.continueFiring(event, completion: completion) }
        }
        for deferred in pending {
            deferred.addBoth { [weak self] (result: Result<Void, Failure>) -> Void in
                if case .failure(let failure) = result { self?.failures.append(failure) }
                finishOne()
            }
        }
        finishOne()
        return true
    }

    private func continueFiring(_ event: SystemEvent, completion: () -> Void) {
        waiting.remove(event)
        for phase in [SystemEventPhase.during, .after] {
            while let trigger = popFirst(phase, event) {
                // A Deferred returned outside the `before` phase is not awaited.
                _ = trigger.function()
            }
        }
        completion()
    }

    private func popFirst(_ phase: SystemEventPhase, _ event: SystemEvent) -> Trigger? {
        guard let first = triggers[event]?[phase]?.first else { return nil }
        triggers[event]?[phase]?.removeFirst()
        return first
    }
}
