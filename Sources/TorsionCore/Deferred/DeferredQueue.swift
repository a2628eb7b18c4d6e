import DequeModule

/// A first-in, first-out queue for event-driven code: Twisted's
/// `DeferredQueue`. ``get()`` returns a Deferred that fires with the next
/// item, at once if one is queued, otherwise when ``put(_:)`` supplies it.
///
/// Both sides are bounded on request: at most ``size`` items wait in the
/// queue and at most ``backlog`` gets wait for items; going beyond either
/// fails synchronously with ``QueueOverflow`` or ``QueueUnderflow``. `nil`
/// means unbounded, as in Twisted: a server fed by the network should set
/// both, so that a fast producer or many consumers cannot grow memory
/// without bound. A negative bound refuses everything, like `0`.
///
/// Reactor thread only.
public final class DeferredQueue<Value> {
    /// The most items that may wait in the queue, or `nil` for no limit.
    public let size: Int?
    /// The most ``get()`` requests that may wait for an item, or `nil` for no
    /// limit.
    public let backlog: Int?

    private var pending = Deque<Value>()
    private let waiters = DeferredWaitList<Value>()

    /// Makes an empty queue with the given bounds.
    public init(size: Int? = nil, backlog: Int? = nil) {
        self.size = size
        self.backlog = backlog
    }

    /// Number of items waiting to be taken.
    public var pendingCount: Int { pending.count }

    /// Number of ``get()`` requests waiting for an item.
    public var waitingCount: Int { waiters.count }

    /// Adds `item`: hands it to the oldest waiting ``get()`` if there is one
    /// (running its callbacks now), otherwise queues it.
    ///
    /// - Throws: ``QueueOverflow`` when nobody waits and ``size`` items are
    ///   already queued; `item` is then not added.
    public func put(_ item: Value) throws(QueueOverflow) {
        if waiters.fireFirst(with: item) { return }
        if let size, pending.count >= size { throw QueueOverflow() }
        pending.append(item)
    }

    /// Returns a Deferred that fires with the oldest item: already fired if
    /// an item is queued, otherwise when one is put. Cancelling a get that is
    /// still waiting withdraws it, so it will not take an item.
    ///
    /// - Throws: ``QueueUnderflow`` when the queue is empty and ``backlog``
    ///   gets already wait.
    public func get() throws(QueueUnderflow) -> Deferred<Value> {
        if let item = pending.popFirst() { return succeed(item) }
        if let backlog, waiters.count >= backlog { throw QueueUnderflow() }
        return waiters.makeWaiter()
    }
}
