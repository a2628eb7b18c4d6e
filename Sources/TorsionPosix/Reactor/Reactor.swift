import DequeModule
import Glibc
import Synchronization
import TorsionCore
import TorsionLibevent
import TorsionURing

/// The running reactor: one event loop on one thread, over the I/O engine
/// of the chosen ``Backend``. Twisted's `reactor`, as an explicit object.
///
/// One turn of the loop (see ``iterate(delay:)``):
/// 1. run the timers that are due, in deadline order, FIFO among equals;
///    calls scheduled during this step wait for the next turn, even with a
///    delay of 0, so timers cannot starve I/O;
/// 2. run the functions queued with ``callFromThread(_:)`` so far;
/// 3. wait in the engine for I/O until the next timer is due, dispatching
///    readiness to the watched descriptors.
///
/// After ``stop()`` the current turn completes, then the `shutdown` event
/// fires: `before` triggers (a returned Deferred delays the rest while the
/// loop keeps turning), then `during` (the reactor drops its descriptors,
/// stops its thread pool and leaves the loop), then `after`.
///
/// Threading: everything is reactor thread only (the thread running
/// ``run()``, or before that the thread that created the reactor), except
/// ``callFromThread(_:)`` and ``isInIOThread``. Debug builds assert it.
public final class Reactor: @unchecked Sendable {
    // SAFETY: the type is Sendable only so that a reference can reach other
    // threads for `callFromThread`. The state under "Any thread" is
    // immutable or synchronised (Mutex, Atomic, ThreadPool's lock, the
    // waker's write); the state under "Reactor thread only" is touched by
    // the reactor thread alone, which debug builds assert.

    // MARK: Any thread

    /// The backend this reactor runs on.
    public let backend: Backend
    /// Wakes the engine's wait; written from any thread.
    let waker: Waker
    /// Functions queued by ``callFromThread(_:)`` and whether a wake-up is
    /// already on its way.
    let threadCalls = Mutex(ThreadCallQueue())
    /// The `pthread_t` of the reactor thread.
    let ioThread: Atomic<UInt>
    /// Runs ``callInThread(_:)`` work; started with the reactor, stopped
    /// during shutdown.
    let threadPool: ThreadPool

    // MARK: Reactor thread only

    /// The I/O engine of ``backend``.
    let engine: any IOEngine
    /// The delayed calls of ``callLater(_:_:)``.
    lazy var timers = TimerQueue { monotonicSeconds() }
    /// The system event triggers, including the reactor's own.
    let triggers = SystemEventTriggers()
    /// Descriptors watched through ``ReactorFDSet``, by fd.
    var readers: [Int32: any ReadDescriptor] = [:]
    /// Descriptors watched for writing through ``ReactorFDSet``, by fd.
    var writers: [Int32: any WriteDescriptor] = [:]
    /// The SIGINT/SIGTERM watcher while signal handling is installed.
    var signalWatcher: SignalWatcher?
    /// Whether ``run()`` installs SIGINT/SIGTERM handling.
    let handlesSignals: Bool
    /// The descriptors and live connections of the reactor's transports.
    let ownedTransports = OwnedTransports()

    /// `true` from the `during` phase of `startup` until shutdown
    /// completed or ``crash()``.
    public private(set) var running = false
    /// The loop should keep turning (Twisted's `_started`).
    private var started = false
    /// ``stop()`` may not be called (Twisted's `_stopped`): before the
    /// first run and once stop was requested.
    private var stopRequested = true
    /// ``stop()`` was called and the `shutdown` event has not fired yet.
    private var justStopped = false
    /// ``stop()`` was called once: the reactor cannot run again.
    private var startedBefore = false
    /// The reactor's own `during startup` trigger is registered and has
    /// not run, so ``crash()`` need not add it again.
    private var startupTriggerPending = false

    /// Makes a reactor on `backend` that has not run. `threadPool` bounds
    /// the thread pool (Twisted's default: 0...10). With `handlesSignals`,
    /// ``run()`` turns SIGINT and SIGTERM into ``stop()`` for as long as it
    /// runs; off by default so that a library or a test does not take over
    /// the process's signals.
    ///
    /// - Throws: ``BackendUnavailableError`` for a backend that cannot run
    ///   here, ``SystemError`` when the kernel refuses the poller or waker.
    public init(
        backend: Backend = .best, threadPool: ClosedRange<Int> = 0...10, handlesSignals: Bool = false
    ) throws {
        self.backend = backend
        if case .unavailable(let reason) = backend.availability {
            throw BackendUnavailableError(backend: backend, reason: reason)
        }
        switch backend {
        case .select: engine = try ReadinessEngine(poller: SelectPoller())
        case .poll: engine = try ReadinessEngine(poller: PollPoller())
        case .epoll: engine = try ReadinessEngine(poller: EpollPoller())
        case .libevent: engine = try ReadinessEngine(poller: LibeventPoller())
        case .io_uring: engine = try URingEngine()
        }
        waker = engine.waker
        ioThread = Atomic(UInt(pthread_self()))
        self.threadPool = ThreadPool(minimum: threadPool.lowerBound, maximum: max(threadPool.upperBound, 1))
        self.handlesSignals = handlesSignals
        addStartupTrigger()
        triggers.add(.during, .shutdown) { [unowned self] in
            shutDown()
            return nil
        }
    }

    deinit {
        threadPool.stop()
        signalWatcher?.uninstall()
        engine.close()
    }

    /// Runs in the `during` phase of `startup`: marks the reactor running
    /// and starts the thread pool. Added again by ``crash()`` so a crashed
    /// reactor can run again, as in Twisted.
    private func addStartupTrigger() {
        guard !startupTriggerPending else { return }
        startupTriggerPending = true
        triggers.add(.during, .startup) { [unowned self] in
            startupTriggerPending = false
            running = true
            threadPool.start()
            return nil
        }
    }

    /// The `during` phase of `shutdown`: drops the watched descriptors and
    /// closes the live connections (telling each it was lost), stops the
    /// thread pool and leaves the loop.
    private func shutDown() {
        let reason = Failure(ConnectionLost("the reactor shut down"))
        for handler in removeAll() { handler.connectionLost(reason: reason) }
        closeStreamConnections(reason: reason)
        threadPool.stop()
        crash()
    }

    /// Traps in debug builds when called off the reactor thread.
    @inline(__always)
    func assertInIOThread(_ function: StaticString = #function) {
        assert(isInIOThread, "Reactor.\(function) called off the reactor thread")
    }
}

// MARK: - ReactorCore

extension Reactor: ReactorCore {
    /// Runs the loop until ``stop()`` (then the `shutdown` event) or
    /// ``crash()``. Makes the calling thread the reactor thread.
    ///
    /// - Throws: ``ReactorAlreadyRunning`` while running,
    ///   ``ReactorNotRestartable`` once stopped, and the ``SystemError`` of
    ///   an engine failure (the reactor has crashed then).
    public func run() throws {
        try startRunning()
        defer {
            signalWatcher?.uninstall()
            signalWatcher = nil
        }
        while started {
            try turn(waitingAtMost: nil)
            if justStopped {
                justStopped = false
                triggers.fire(.shutdown)
            }
        }
    }

    /// Twisted's `startRunning`: checks the state and fires `startup`.
    private func startRunning() throws {
        if started { throw ReactorAlreadyRunning() }
        if startedBefore { throw ReactorNotRestartable() }
        ioThread.store(UInt(pthread_self()), ordering: .releasing)
        if handlesSignals {
            signalWatcher = try SignalWatcher(engine: engine) { [unowned self] in try? stop() }
        }
        started = true
        stopRequested = false
        triggers.fire(.startup)
    }

    /// Asks the loop to stop once the current turn completed; the
    /// `shutdown` triggers then run and ``run()`` returns.
    ///
    /// - Throws: ``ReactorNotRunning`` when the reactor has not run, or
    ///   stop was already called.
    public func stop() throws {
        assertInIOThread()
        if stopRequested { throw ReactorNotRunning() }
        stopRequested = true
        justStopped = true
        startedBefore = true
    }

    /// Leaves the loop at the end of the current turn without running the
    /// `shutdown` triggers. The reactor may be run again afterwards (unless
    /// ``stop()`` was called), as in Twisted.
    public func crash() {
        assertInIOThread()
        started = false
        running = false
        addStartupTrigger()
    }

    /// Runs one turn: due timers, queued thread calls, then waits for I/O
    /// at most `delay` seconds (less when a timer is due sooner). An engine
    /// failure crashes the reactor.
    public func iterate(delay: Double) {
        assertInIOThread()
        do {
            try turn(waitingAtMost: max(delay, 0))
        } catch {
            crash()
        }
    }

    /// One turn; `limit` caps the wait (`nil`: until the next timer).
    private func turn(waitingAtMost limit: Double?) throws {
        let mark = timers.sequenceMark
        timers.runDueCalls(now: monotonicSeconds(), scheduledBefore: mark)
        runThreadCalls()
        var timeout = timers.nextDeadline.map { max($0 - monotonicSeconds(), 0) }
        if let limit { timeout = min(timeout ?? limit, limit) }
        // The main loop (no limit) must not block once stop was asked for
        // (the shutdown event fires right after this turn) or once this
        // turn's callbacks left the loop (shutdown completed, crash).
        if justStopped || limit == nil && !started { timeout = 0 }
        do {
            try engine.wait(timeout: timeout)
        } catch {
            crash()
            throw error
        }
    }

    /// Calls `function` now when running, otherwise once the reactor has
    /// started (an `after` trigger of `startup`).
    public func callWhenRunning(_ function: @escaping () -> Void) {
        assertInIOThread()
        triggers.callWhenRunning(running: running, function)
    }

    /// Registers `trigger` to run once, in `phase`, the next time `event`
    /// fires. A `before` trigger's Deferred delays the `during` phase.
    @discardableResult
    public func addSystemEventTrigger(
        _ phase: SystemEventPhase, _ event: SystemEvent, _ trigger: @escaping () -> Deferred<Void>?
    ) -> SystemEventTriggerID {
        assertInIOThread()
        return triggers.add(phase, event, trigger)
    }

    /// Removes a trigger that has not run; unknown handles are ignored.
    public func removeSystemEventTrigger(_ id: SystemEventTriggerID) {
        assertInIOThread()
        triggers.remove(id)
    }

    /// Fires `event` phase by phase, as ``stop()`` does for `shutdown`.
    public func fireSystemEvent(_ event: SystemEvent) {
        assertInIOThread()
        triggers.fire(event)
    }
}
