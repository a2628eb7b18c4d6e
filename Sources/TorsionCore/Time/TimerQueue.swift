import HeapModule

/// The scheduler of delayed calls, shared by every reactor backend and by
/// the deterministic ``Clock``.
///
/// A binary min-heap (swift-collections `Heap`) of entries keyed by
/// `(deadline, sequence)`. The sequence number grows with every schedule, so
/// calls with equal deadlines run in the order they were scheduled
/// (Twisted issue #6718: its heap did not keep that order). Cancelling or
/// moving a call does not search the heap: the old entry goes stale and is
/// dropped when it surfaces (O(log n) each), and the heap is rebuilt from its
/// live entries when most of it is dead, so memory stays proportional to the
/// number of live calls.
///
/// Reactor thread only.
public final class TimerQueue {
    struct Entry: Comparable {
        let deadline: Double
        let sequence: UInt64
        let call: DelayedCall

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            if lhs.deadline != rhs.deadline { return lhs.deadline < rhs.deadline }
            return lhs.sequence < rhs.sequence
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.deadline == rhs.deadline && lhs.sequence == rhs.sequence
        }

        /// An entry is live while its call is active and was not moved since.
        var isLive: Bool { call.isActive && call.sequence == sequence }
    }

    private var heap = Heap<Entry>()
    private var nextSequence: UInt64 = 0
    /// Calls scheduled and neither run nor cancelled.
    public private(set) var activeCount = 0
    /// The time source used by ``DelayedCall/reset(_:)``.
    let now: () -> Double

    /// Compaction threshold: rebuild only when the heap is both this large
    /// and more than half dead, so small heaps never pay for a rebuild and a
    /// rebuild (O(n)) is amortised over at least n/2 stale removals.
    private static let compactionMinimumSize = 64

    /// Makes an empty queue reading time from `now`.
    public init(now: @escaping () -> Double) {
        self.now = now
    }

    /// Schedules `function` at absolute time `time`. A time in the past runs
    /// on the next run of due calls; a NaN time never comes due (it is
    /// ordered as +infinity) but the call can still be cancelled or moved.
    public func schedule(at time: Double, _ function: @escaping () -> Void) -> DelayedCall {
        let call = DelayedCall(time: time, queue: self, function: function)
        activeCount += 1
        push(call)
        return call
    }

    private func push(_ call: DelayedCall) {
        nextSequence &+= 1
        call.sequence = nextSequence
        // NaN compares false both ways and would break the heap's order: a
        // call at a NaN time is kept at +infinity, where it never comes due.
        let deadline = call.time.isNaN ? .infinity : call.time
        heap.insert(Entry(deadline: deadline, sequence: nextSequence, call: call))
        compactIfMostlyDead()
    }

    func reschedule(_ call: DelayedCall) { push(call) }

    func callCancelled(_ call: DelayedCall) {
        activeCount -= 1
        compactIfMostlyDead()
    }

    private func compactIfMostlyDead() {
        guard heap.count >= Self.compactionMinimumSize, heap.count > 2 * activeCount else { return }
        heap = Heap(heap.unordered.filter(\.isLive))
    }

    /// Drops stale entries from the top of the heap.
    private func dropStaleTop() {
        while let top = heap.min, !top.isLive { _ = heap.removeMin() }
    }

    /// The deadline of the earliest active call, or `nil` when none is left.
    public var nextDeadline: Double? {
        dropStaleTop()
        return heap.min?.deadline
    }

    /// The sequence number the next scheduled call will get. A reactor turn
    /// records it before running due calls and passes it to
    /// ``runDueCalls(now:scheduledBefore:)`` so that a call scheduled with
    /// delay 0 by a running call waits for the next turn instead of starving
    /// I/O.
    public var sequenceMark: UInt64 { nextSequence &+ 1 }

    /// Removes and returns the earliest active call due at `now`, if any.
    ///
    /// When `scheduledBefore` is given, only calls scheduled (or last moved)
    /// before that sequence mark are returned. Newer calls are stepped over,
    /// not waited behind: a call moved earlier during a turn (`delay` with a
    /// negative amount, `reset`) does not hold back older calls that are due.
    public func popDueCall(now: Double, scheduledBefore mark: UInt64? = nil) -> DelayedCall? {
        var steppedOver: [Entry] = []
        defer { for entry in steppedOver { heap.insert(entry) } }
        while true {
            dropStaleTop()
            guard let top = heap.min, top.deadline <= now else { return nil }
            _ = heap.removeMin()
            if let mark, top.sequence >= mark {
                steppedOver.append(top)
                continue
            }
            activeCount -= 1
            return top.call
        }
    }

    /// Runs every call due at `now`, earliest first, FIFO among equal
    /// deadlines. Calls that become due while running (scheduled with a
    /// deadline ≤ `now`) run too unless excluded by `scheduledBefore`.
    /// Returns how many calls ran.
    @discardableResult
    public func runDueCalls(now: Double, scheduledBefore mark: UInt64? = nil) -> Int {
        var count = 0
        while let call = popDueCall(now: now, scheduledBefore: mark) {
            call.run()
            count += 1
        }
        return count
    }

    /// The active calls, in no particular order (Twisted's `getDelayedCalls`).
    public var activeCalls: [DelayedCall] {
        heap.unordered.filter(\.isLive).map(\.call)
    }

    /// Number of heap entries, live or stale. For tests of compaction.
    public var storedEntryCount: Int { heap.count }
}
