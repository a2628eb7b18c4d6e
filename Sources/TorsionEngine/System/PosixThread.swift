import Glibc

/// A pthread mutex with a condition variable, for the thread pool and for
/// `blockingCallFromThread`, which must block real threads
/// (`Synchronization.Mutex` has no condition variable). Any thread.
package final class ConditionLock: @unchecked Sendable {
    // SAFETY: the mutex and condition live in heap memory owned by this
    // object, are initialised before use and destroyed in deinit; pthreads
    // makes them safe to use from any thread.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Makes an unlocked lock.
    package init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    package func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Takes the lock; pair with ``unlock()``.
    package func lock() { pthread_mutex_lock(mutex) }

    /// Releases the lock taken by ``lock()``.
    package func unlock() { pthread_mutex_unlock(mutex) }

    /// Releases the lock, sleeps until ``broadcast()``, retakes the lock.
    /// Hold the lock, and re-check the awaited state afterwards (wake-ups
    /// may be spurious).
    package func wait() { pthread_cond_wait(condition, mutex) }

    /// Wakes every thread sleeping in ``wait()``; call it after
    /// changing what they wait for.
    package func broadcast() {
        pthread_cond_broadcast(condition)
    }
}

/// A joinable POSIX thread running a closure. Used instead of Foundation's
/// `Thread` so the module needs nothing beyond Glibc.
package struct PosixThread: @unchecked Sendable {
    // SAFETY: a pthread_t is an opaque handle the pthreads API allows any
    // thread to join, once.
    private let handle: pthread_t

    /// Starts a thread running `body`.
    package init(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                // SAFETY: the argument is the retained ThreadBody passed below, released here once.
                let body = Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue()
                body.run()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            throw SystemError(errno: result, call: "pthread_create")
        }
        self.handle = handle
    }

    /// Waits for the thread to finish. Call once, from another thread.
    package func join() {
        pthread_join(handle, nil)
    }

    /// `true` when called on this thread.
    package var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// Lets the thread release its resources when it ends, without a
    /// join; instead of ``join()``, for a thread that cannot wait for itself.
    package func detach() {
        pthread_detach(handle)
    }
}

/// The closure of a ``PosixThread``, carried through `pthread_create`.
private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
