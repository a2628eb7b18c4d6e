import CLibURing
import Glibc
import TorsionEngine

// MARK: - Watching foreign descriptors (ReactorFDSet)

extension URingEngine {
    /// Number of descriptors watched through ``watch(_:interest:handler:)``.
    package var watchedCount: Int { registry.count }

    /// Watches `fd` with a single-shot `POLL_ADD`, re-armed after each
    /// dispatch.
    ///
    /// Why not multishot poll: a multishot `POLL_ADD` posts a CQE when the
    /// file signals a wake-up, which is edge-like; a ReactorFDSet reader
    /// that reads only part of what is queued must be called again on the
    /// next turn (level semantics), and no new wake-up comes for data that
    /// is already there. A single-shot poll armed while the descriptor is
    /// ready completes at once, so re-arming after each dispatch gives
    /// exactly one call per turn while the descriptor stays ready. The cost
    /// (one SQE per dispatch) only concerns foreign descriptors: transports
    /// use completions, not watches.
    package func watch(_ fd: Int32, interest: PollerInterest, handler: @escaping (PollerInterest) -> Void) throws {
        guard !interest.isEmpty else { return unwatch(fd) }
        guard let current = registry[fd] else {
            _ = registry.add(fd, interest: interest, handler: handler)
            return armPoll(fd)
        }
        registry.update(fd, interest: interest, handler: handler)
        // A poll armed for another mask is replaced; none is armed while
        // the handler runs, and the re-arm after it uses the new interest.
        if current.interest != interest, let armed = armedPolls.removeValue(forKey: fd) {
            cancel(armed.token)
            armPoll(fd)
        }
    }

    /// Arms a single-shot poll for the current interest of `fd`.
    private func armPoll(_ fd: Int32) {
        guard let registration = registry[fd] else { return }
        var mask: UInt32 = 0
        if registration.interest.contains(.read) { mask |= UInt32(POLLIN) }
        if registration.interest.contains(.write) { mask |= UInt32(POLLOUT) }
        let serial = nextSerial()
        let token = submit({ sqe in io_uring_prep_poll_add(sqe, fd, mask) }) { [unowned self] result, _ in
            pollCompleted(fd, serial: serial, result: result)
        }
        armedPolls[fd] = ArmedOperation(token: token, serial: serial)
    }

    /// Dispatches the readiness of a completed poll, unless the poll is
    /// stale (unwatched, replaced, or the number has a new owner), then
    /// arms the next one if the descriptor is still watched and the
    /// handler did not arm one itself.
    private func pollCompleted(_ fd: Int32, serial: UInt64, result: Int32) {
        guard armedPolls[fd]?.serial == serial, let registration = registry[fd] else { return }
        armedPolls[fd] = nil
        let ready: PollerInterest
        if result < 0 {
            // ECANCELED without a cancel of ours (the kernel tearing the
            // request down): arm again. Anything else, EBADF above all (the
            // descriptor was closed behind the engine's back before the
            // poll was armed), is reported as a poller reports POLLNVAL;
            // the handler must unwatch, so a persistent error cannot spin.
            guard -result != ECANCELED else { return armPoll(fd) }
            ready = .invalid
        } else {
            ready = Self.readiness(UInt32(result)).intersection(registration.interest.union(.invalid))
        }
        if !ready.isEmpty { registration.handler?(ready) }
        if registry[fd]?.generation == registration.generation, armedPolls[fd] == nil { armPoll(fd) }
    }

    /// The readiness a poll result reports; errors and hang-ups wake both
    /// readers and writers, as with poll(2).
    static func readiness(_ events: UInt32) -> PollerInterest {
        var ready: PollerInterest = events & UInt32(POLLNVAL) != 0 ? .invalid : []
        let problems = UInt32(POLLERR | POLLHUP)
        if events & (UInt32(POLLIN) | problems) != 0 { ready.insert(.read) }
        if events & (UInt32(POLLOUT) | problems) != 0 { ready.insert(.write) }
        return ready
    }
}
