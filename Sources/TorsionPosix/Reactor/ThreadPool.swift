import DequeModule

/// The reactor's pool of worker threads for ``Reactor/callInThread(_:)``
/// (Twisted's `ThreadPool`): between `minimum` and `maximum` threads, a
/// FIFO queue of work, threads added on demand while none is idle.
///
/// Work queued before ``start()`` waits for it. ``stop()`` lets the
/// threads finish the queued work, then joins them. Any thread, except
/// that ``stop()`` blocks until the workers finish.
final class ThreadPool: @unchecked Sendable {
    // SAFETY: every stored var below is read and written only while holding
    // `lock`; `minimum` and `lock` are immutable.

    // MARK: Guarded by lock

    private var queue = Deque<@Sendable () -> Void>()
    private var threads: [PosixThread] = []
    private var idle = 0
    private var started = false
    private var stopping = false
    /// The most threads the pool may run; see ``suggestSize(_:)``.
    private var maximum: Int

    // MARK: Immutable

    private let minimum: Int
    private let lock = ConditionLock()

    /// Makes a stopped pool of `minimum...maximum` threads.
    init(minimum: Int, maximum: Int) {
        precondition(minimum >= 0 && maximum >= max(minimum, 1), "invalid thread pool size \(minimum)...\(maximum)")
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Threads currently alive; for tests.
    var threadCount: Int { lock.withLock { threads.count } }

    /// Changes the maximum number of threads (at least the minimum, at least 1).
    func suggestSize(_ size: Int) {
        lock.withLock { maximum = max(size, minimum, 1) }
    }

    /// Starts the minimum number of threads, and more for work already queued.
    func start() {
        lock.withLock {
            guard !started, !stopping else { return }
            started = true
            while threads.count < minimum || (threads.count < maximum && threads.count < queue.count) {
                guard spawnWorker() else { break }
            }
        }
    }

    /// Queues `work`; it runs on a pool thread once the pool is started.
    /// Work queued after ``stop()`` is dropped: no thread would ever run
    /// it, and keeping it would hold what it captured forever.
    func callInThread(_ work: @escaping @Sendable () -> Void) {
        lock.withLock {
            guard !stopping else { return }
            queue.append(work)
            if started, !stopping, idle == 0, threads.count < maximum { _ = spawnWorker() }
        }
        lock.broadcast()
    }

    /// Lets the threads finish the queued work, then joins them. Work
    /// queued afterwards is dropped. Called from a pool thread (the last
    /// reference to the reactor released there runs its deinit), that
    /// thread is detached instead of joining itself.
    func stop() {
        let toJoin: [PosixThread] = lock.withLock {
            stopping = true
            defer { threads.removeAll() }
            return threads
        }
        lock.broadcast()
        for thread in toJoin {
            if thread.isCurrent { thread.detach() } else { thread.join() }
        }
        lock.withLock { queue.removeAll() }
    }

    /// Starts one worker; the lock is held. `false` when the system refuses
    /// a thread: the work stays queued for the threads that exist.
    private func spawnWorker() -> Bool {
        guard let thread = try? PosixThread({ [self] in workLoop() }) else { return false }
        threads.append(thread)
        return true
    }

    /// A worker: takes work in FIFO order, sleeps while there is none,
    /// exits once the pool stops and the queue is empty.
    private func workLoop() {
        lock.lock()
        while true {
            while queue.isEmpty, !stopping {
                idle += 1
                lock.wait()
                idle -= 1
            }
            guard let work = queue.popFirst() else { break }
            lock.unlock()
            work()
            lock.lock()
        }
        lock.unlock()
    }
}
