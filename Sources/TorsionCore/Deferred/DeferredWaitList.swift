import DequeModule

/// The first-come, first-served list of unfired Deferreds that
/// ``DeferredLock``, ``DeferredSemaphore`` and ``DeferredQueue`` hand out
/// while they cannot serve a request at once.
///
/// Each waiter's canceller removes it from the list (Twisted's
/// `_cancelAcquire` / `_cancelGet`), so a cancelled request never receives a
/// token or an item later. The canceller holds the list weakly: the list owns
/// its waiters, not the other way round.
///
/// Reactor thread only.
final class DeferredWaitList<Value> {
    private var waiting = Deque<Deferred<Value>>()

    /// Number of waiters.
    var count: Int { waiting.count }

    /// Adds an unfired Deferred at the end of the list and returns it.
    func makeWaiter() -> Deferred<Value> {
        let waiter = Deferred<Value>(canceller: { [weak self] cancelled in
            self?.remove(cancelled)
        })
        waiting.append(waiter)
        return waiter
    }

    /// Fires the first waiter that can still be fired with `value`.
    ///
    /// A waiter that was fired by someone else meanwhile (a misuse: the
    /// Deferred belongs to the list until it fires) is skipped rather than
    /// allowed to swallow `value`.
    ///
    /// - Returns: `false` when no waiter took `value`.
    func fireFirst(with value: Value) -> Bool {
        while let waiter = waiting.popFirst() {
            do {
                try waiter.callback(value)
                return true
            } catch {
                continue
            }
        }
        return false
    }

    private func remove(_ waiter: Deferred<Value>) {
        if let index = waiting.firstIndex(where: { $0.chain === waiter.chain }) {
            waiting.remove(at: index)
        }
    }
}
