import DequeModule
import Glibc
import Synchronization
import TorsionCore

/// The functions queued by ``Reactor/callFromThread(_:)``, guarded by the
/// reactor's mutex.
struct ThreadCallQueue: ~Copyable {
    /// Queued functions, FIFO.
    var calls = Deque<@Sendable () -> Void>()
    /// A wake-up was written and the loop has not drained the queue since:
    /// further calls need not write the eventfd again.
    var wakePending = false
    /// Number of wake-ups written; lets tests check that the wake-up is
    /// skipped when one is already pending.
    var wakesSent = 0
}

// MARK: - ReactorThreads

extension Reactor: ReactorThreads {
    /// Queues `function` to run on the reactor thread during a later turn,
    /// waking the loop when it waits for I/O. The eventfd is written only
    /// when no wake-up is pending since the loop last drained the queue.
    /// Functions queued by one thread run in the order queued. Any thread.
    public func callFromThread(_ function: @escaping @Sendable () -> Void) {
        let needsWake = threadCalls.withLock { queue in
            queue.calls.append(function)
            if queue.wakePending { return false }
            queue.wakePending = true
            queue.wakesSent += 1
            return true
        }
        if needsWake { waker.wake() }
    }

    /// Runs the functions queued so far; functions they queue run on the
    /// next turn (their wake-up makes that turn's wait return at once).
    func runThreadCalls() {
        let batch = threadCalls.withLock { queue in
            queue.wakePending = false
            defer { queue.calls.removeAll() }
            return queue.calls
        }
        for function in batch { function() }
    }

    /// Runs `function` on a thread of the reactor's pool. Work queued
    /// before the reactor runs starts when it does; the pool finishes the
    /// queued work and stops during shutdown. Reactor thread only.
    public func callInThread(_ function: @escaping @Sendable () -> Void) {
        assertInIOThread()
        threadPool.callInThread(function)
    }

    /// Sets the pool's maximum to `size` (at least its minimum, at least
    /// one). Reactor thread only.
    public func suggestThreadPoolSize(_ size: Int) {
        assertInIOThread()
        threadPool.suggestSize(size)
    }

    /// `true` on the thread running the loop, or before it runs, on the
    /// thread that created the reactor. Any thread.
    public var isInIOThread: Bool {
        pthread_equal(pthread_self(), pthread_t(ioThread.load(ordering: .acquiring))) != 0
    }
}

extension ReactorThreads {
    /// Runs `body` on the reactor's thread pool and fires the returned
    /// Deferred on the reactor thread with its result or error (Twisted's
    /// `deferToThread`). Reactor thread only; `body` must not touch the
    /// reactor except through ``ReactorThreads/callFromThread(_:)``.
    public func deferToThread<Value: Sendable>(
        _ body: @escaping @Sendable () throws -> Value
    ) -> Deferred<Value> {
        let deferred = Deferred<Value>()
        let confined = ReactorConfined(deferred)
        callInThread {
            let result = Result { try body() }
            self.callFromThread { try? confined.value.fire(with: result) }
        }
        return deferred
    }

    /// Runs `body` on the reactor thread and blocks the calling thread until
    /// the Deferred it returns fires; returns its value or throws the error
    /// of its failure (Twisted's `blockingCallFromThread`).
    ///
    /// Any thread except the reactor thread (that would wait for itself
    /// forever: it traps instead). Do not call it from a pool thread while
    /// the reactor shuts down: shutdown waits for the pool.
    public func blockingCallFromThread<Value: Sendable>(
        _ body: @escaping @Sendable () -> Deferred<Value>
    ) throws -> Value {
        precondition(!isInIOThread, "blockingCallFromThread called on the reactor thread would deadlock")
        let lock = ConditionLock()
        let slot = ResultSlot<Value>()
        callFromThread {
            body().addBoth { (result: Result<Value, Failure>) -> Void in
                lock.withLock { slot.result = result.mapError { $0.error } }
                lock.broadcast()
            }
        }
        lock.lock()
        while slot.result == nil { lock.wait() }
        let result = slot.result!
        lock.unlock()
        return try result.get()
    }
}

/// Where `blockingCallFromThread` leaves the result for the waiting thread.
private final class ResultSlot<Value: Sendable>: @unchecked Sendable {
    // SAFETY: read and written only while holding the ConditionLock that
    // blockingCallFromThread creates beside it.
    var result: Result<Value, any Error>?
}

/// Carries a reactor-thread-only value (a Deferred) through `@Sendable`
/// closures to a function queued with `callFromThread`.
final class ReactorConfined<Wrapped>: @unchecked Sendable {
    // SAFETY: created on the reactor thread and only used there again, in
    // the function passed to callFromThread; the threads in between only
    // carry the reference.
    let value: Wrapped
    init(_ value: Wrapped) { self.value = value }
}
