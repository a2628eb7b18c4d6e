import CLibevent
import Glibc
import TorsionEngine

/// libevent could not create an event base here, so the libevent backend
/// cannot run.
public struct LibeventUnavailable: Error, CustomStringConvertible, Equatable, Sendable {
    /// What failed, as `torsion backends` prints it.
    public let reason: String
    /// The reason alone: it is shown after `libevent  unavailable: `.
    public var description: String { reason }
}

/// The libevent backend: libevent 2.1 used as a poller inside Torsion's
/// loop, so timers, Deferreds and the call queue stay Torsion's and the
/// shared ``ReadinessEngine`` does the I/O (write-through, bounded reads,
/// generations).
///
/// Each registered fd has two persistent raw events, one `EV_READ` and one
/// `EV_WRITE`, added and deleted as the interest changes; libevent merges
/// them into one kernel registration per fd (an epoll `MOD`, as
/// ``EpollPoller`` does). Raw events, not bufferevents: bufferevents copy
/// every byte through an evbuffer and cost 20–25% of echo throughput in
/// published measurements, and the engine already owns the buffering.
///
/// Callbacks only record what is ready; the engine dispatches after
/// `event_base_loop` returned, so no handler runs inside libevent and a
/// handler may register, modify or unregister freely. Loop thread only.
package final class LibeventPoller: Poller {
    // MARK: Loop thread only

    private let base: OpaquePointer
    /// Bounds a wait by the next Torsion timer: one reusable, non-persistent
    /// timer event whose callback does nothing; its firing is an active
    /// event, which ends an `EVLOOP_ONCE` loop. Cheaper and safer than
    /// `event_base_loopexit`, which allocates a fresh event per call and,
    /// when I/O ends the loop first, stays scheduled and would end a later
    /// loop early.
    private let timer: OpaquePointer
    private var slots: [Int32: Slot] = [:]
    /// The engine's event array while a wait runs (swapped in and out, so
    /// neither side allocates per turn).
    private var collected: [PollerEvent] = []

    /// Creates the event base.
    ///
    /// The config sets `EVENT_BASE_FLAG_NOLOCK` (the base is used from the
    /// loop thread only, so it needs no lock even if some other code in the
    /// process turned on libevent's threading) and
    /// `EVENT_BASE_FLAG_IGNORE_ENV` (`EVENT_NOEPOLL` and friends must not
    /// silently change the backend under Torsion's feet). libevent installs
    /// signal handlers only when an `EV_SIGNAL` event is added, which this
    /// poller never does, so Torsion's SIGINT/SIGTERM handling is untouched;
    /// epoll is the method libevent picks on Linux.
    ///
    /// - Throws: ``LibeventUnavailable`` when libevent refuses.
    package init() throws(LibeventUnavailable) {
        _ = Self.silenceLogging
        guard let config = event_config_new() else {
            throw LibeventUnavailable(reason: "event_config_new failed")
        }
        defer { event_config_free(config) }
        let flags = EVENT_BASE_FLAG_NOLOCK.rawValue | EVENT_BASE_FLAG_IGNORE_ENV.rawValue
        guard event_config_set_flag(config, Int32(flags)) == 0,
            let base = event_base_new_with_config(config)
        else {
            throw LibeventUnavailable(reason: "event_base_new_with_config failed (errno \(errno))")
        }
        // SAFETY: a non-persistent timer (fd -1, no flags) with no argument;
        // freed in close() before the base.
        guard let timer = event_new(base, -1, 0, { _, _, _ in }, nil) else {
            event_base_free(base)
            throw LibeventUnavailable(reason: "event_new failed for the wait timer")
        }
        self.base = base
        self.timer = timer
    }

    /// Keeps libevent from printing its own warnings to stderr (such as
    /// "Epoll ADD on fd 12 failed" for a regular file): every failure it
    /// would warn about reaches the caller as a thrown ``SystemError``
    /// already. Set once per process, before the first event base.
    private static let silenceLogging: Void = event_set_log_callback { _, _ in }

    /// Why the libevent backend cannot run in this process, or `nil` when
    /// it can: whether an event base can be created, checked once (the
    /// answer cannot change while the process runs). Any thread.
    package static let unavailableReason: String? = {
        do throws(LibeventUnavailable) {
            try LibeventPoller().close()
            return nil
        } catch {
            return error.reason
        }
    }()

    /// The kernel mechanism libevent chose (`epoll` on Linux).
    package var method: String { String(cString: event_base_get_method(base)) }

    /// Records one report; called from the libevent callbacks. A read and a
    /// write report for the same fd arrive back to back (libevent activates
    /// the fd's events together), so they are merged into one, as one epoll
    /// report would be.
    fileprivate func collect(_ userData: UInt64, _ ready: PollerInterest) {
        if let last = collected.last,
            PollerEvent.userData(fileDescriptor: last.fileDescriptor, generation: last.generation) == userData
        {
            collected[collected.count - 1] = PollerEvent(userData: userData, ready: last.ready.union(ready))
        } else {
            collected.append(PollerEvent(userData: userData, ready: ready))
        }
    }

    package func register(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        precondition(slots[fd] == nil, "fd \(fd) registered twice with the libevent poller")
        let slot = Slot(poller: self, userData: PollerEvent.userData(fileDescriptor: fd, generation: generation))
        // SAFETY: the argument is the slot, kept alive by `slots` until both
        // events are freed in release(_:).
        let argument = Unmanaged.passUnretained(slot).toOpaque()
        slot.readEvent = event_new(base, fd, Int16(EV_READ | EV_PERSIST), libeventReady, argument)
        slot.writeEvent = event_new(base, fd, Int16(EV_WRITE | EV_PERSIST), libeventReady, argument)
        guard slot.readEvent != nil, slot.writeEvent != nil else {
            Self.release(slot)
            throw SystemError(errno: ENOMEM, call: "event_new")
        }
        do {
            try apply(interest, to: slot)
        } catch {
            Self.release(slot)
            throw error
        }
        slots[fd] = slot
    }

    package func modify(_ fd: Int32, generation: UInt32, interest: PollerInterest) throws {
        guard let slot = slots[fd] else { preconditionFailure("fd \(fd) modified but not registered") }
        slot.userData = PollerEvent.userData(fileDescriptor: fd, generation: generation)
        try apply(interest, to: slot)
    }

    package func unregister(_ fd: Int32) throws {
        guard let slot = slots.removeValue(forKey: fd) else { return }
        // libevent's epoll method ignores EBADF/ENOENT on delete (an fd
        // closed before being unregistered has already left the epoll set).
        Self.release(slot)
    }

    /// Adds or deletes the slot's two events so they match `interest`.
    private func apply(_ interest: PollerInterest, to slot: Slot) throws {
        try apply(interest, .read, event: slot.readEvent, to: slot)
        try apply(interest, .write, event: slot.writeEvent, to: slot)
    }

    /// Adds or deletes the slot's event for `kind` so it matches `interest`.
    private func apply(_ interest: PollerInterest, _ kind: PollerInterest, event: OpaquePointer?, to slot: Slot) throws {
        let wanted = interest.contains(kind)
        guard wanted != slot.interest.contains(kind) else { return }
        if wanted {
            guard event_add(event, nil) == 0 else { throw SystemError(call: "event_add") }
            slot.interest.insert(kind)
        } else {
            event_del(event)
            slot.interest.remove(kind)
        }
    }

    /// Frees the slot's events (which deletes them first).
    private static func release(_ slot: Slot) {
        if let event = slot.readEvent { event_free(event) }
        if let event = slot.writeEvent { event_free(event) }
        slot.readEvent = nil
        slot.writeEvent = nil
    }

    package func wait(timeout: Double?, into events: inout [PollerEvent]) throws {
        events.removeAll(keepingCapacity: true)
        swap(&collected, &events)
        defer { swap(&collected, &events) }
        let flags: Int32
        if let timeout, timeout <= 0 {
            event_del(timer)
            // NONBLOCK alone would not end the loop after running active
            // callbacks: with a level-triggered fd that stays ready it
            // polls again forever. ONCE ends it after one round.
            flags = EVLOOP_ONCE | EVLOOP_NONBLOCK
        } else if let timeout {
            let bound = waitLimit(timeout)
            var limit = timeval(tv_sec: bound.seconds, tv_usec: bound.microseconds)
            // Re-adding a pending timer reschedules it.
            guard event_add(timer, &limit) == 0 else { throw SystemError(call: "event_add(timer)") }
            flags = EVLOOP_ONCE
        } else {
            event_del(timer)
            flags = EVLOOP_ONCE
        }
        // libevent retries EINTR itself and rounds its epoll timeout up to
        // whole milliseconds, so the loop never wakes just before a timer.
        guard event_base_loop(base, flags) < 0 else { return }
        let code = errno
        // A dispatch error: if registered descriptors were closed without
        // being unregistered (EBADF from the select or poll method), report
        // them as invalid so the engine drops them, as SelectPoller does.
        for (fd, slot) in slots where !Descriptors.isOpen(fd) {
            collected.append(PollerEvent(userData: slot.userData, ready: .invalid))
        }
        if collected.isEmpty { throw SystemError(errno: code, call: "event_base_loop") }
    }

    package func close() {
        for slot in slots.values { Self.release(slot) }
        slots.removeAll()
        event_free(timer)
        event_base_free(base)
    }
}

/// One fd registered with a ``LibeventPoller``: its two events and the word the callbacks report.
///
/// A libevent callback gets one `void *` argument and cannot capture,
/// so the argument points at this record, which carries the fd and
/// generation packed as in `epoll_data.u64` (`fd | generation << 32`)
/// and the poller to report to. Owned by ``slots``; freed on
/// unregister, after both events are freed.
fileprivate final class Slot {
    unowned(unsafe) let poller: LibeventPoller
    /// ``PollerEvent/userData(fileDescriptor:generation:)`` of the registration.
    var userData: UInt64
    var interest: PollerInterest = []
    var readEvent: OpaquePointer?
    var writeEvent: OpaquePointer?

    init(poller: LibeventPoller, userData: UInt64) {
        self.poller = poller
        self.userData = userData
    }
}

/// The callback of every fd event: records the readiness in the poller.
/// `EV_READ`/`EV_WRITE` carry errors and hang-ups too (libevent's epoll
/// method turns `EPOLLERR`/`EPOLLHUP` into both).
private func libeventReady(_ fd: Int32, _ what: Int16, _ argument: UnsafeMutableRawPointer?) {
    guard let argument else { return }
    // SAFETY: the argument is a Slot kept alive by the poller's `slots`
    // while its events exist (see LibeventPoller.register).
    let slot = Unmanaged<Slot>.fromOpaque(argument).takeUnretainedValue()
    var ready: PollerInterest = []
    if Int32(what) & EV_READ != 0 { ready.insert(.read) }
    if Int32(what) & EV_WRITE != 0 { ready.insert(.write) }
    slot.poller.collect(slot.userData, ready)
}
