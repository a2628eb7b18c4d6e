import Testing

@testable import TorsionPosix

/// A one-shot gate: threads wait in ``wait(until:)`` for a counter the
/// test raises with ``add(_:)``. No sleeps: everything is a condition wait.
private final class Counter: @unchecked Sendable {
    // SAFETY: `value` is only touched while holding `lock`.
    private let lock = ConditionLock()
    private var value = 0

    func add(_ amount: Int = 1) {
        lock.withLock { value += amount }
        lock.broadcast()
    }

    func wait(until target: Int) {
        lock.lock()
        while value < target { lock.wait() }
        lock.unlock()
    }

    var current: Int { lock.withLock { value } }
}

@Suite("ThreadPool: bounded workers for callInThread")
struct ThreadPoolTests {
    @Test("start runs the minimum number of threads; stop joins them all")
    func minimumThreads() {
        let pool = ThreadPool(minimum: 2, maximum: 4)
        #expect(pool.threadCount == 0)
        pool.start()
        #expect(pool.threadCount == 2)
        pool.stop()
        #expect(pool.threadCount == 0)
    }

    @Test("never more than the maximum threads; every queued job runs before stop returns")
    func maximumThreads() {
        let pool = ThreadPool(minimum: 0, maximum: 3)
        let started = Counter()
        let gate = Counter()
        let finished = Counter()
        pool.start()
        for _ in 0..<10 {
            pool.callInThread {
                started.add()
                gate.wait(until: 1)
                finished.add()
            }
        }
        started.wait(until: 3)
        #expect(pool.threadCount == 3)
        #expect(started.current == 3)
        gate.add()
        pool.stop()
        #expect(finished.current == 10)
    }

    @Test("work queued after stop is dropped")
    func workAfterStopDropped() {
        let pool = ThreadPool(minimum: 1, maximum: 1)
        pool.start()
        pool.stop()
        let ran = Counter()
        pool.callInThread { ran.add() }
        pool.start()
        #expect(pool.threadCount == 0)
        #expect(ran.current == 0)
    }

    @Test("stop called on a pool thread detaches that thread instead of joining itself")
    func stopFromWorker() {
        let pool = ThreadPool(minimum: 1, maximum: 1)
        let done = Counter()
        pool.start()
        pool.callInThread {
            pool.stop()
            done.add()
        }
        done.wait(until: 1)
        #expect(pool.threadCount == 0)
    }
}
