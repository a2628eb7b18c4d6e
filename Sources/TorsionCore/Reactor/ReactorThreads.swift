/// Crossing between the reactor thread and other threads: Twisted's
/// `IReactorFromThreads` and `IReactorThreads` in one protocol.
///
/// A reactor and everything attached to it belong to the reactor's thread.
/// ``callFromThread(_:)`` is the one door in from any other thread; the
/// other requirements are called on the reactor thread. `blockingCallFromThread`,
/// `deferToThread` and the Swift concurrency bridge
/// (``Deferred/init(on:operation:)``) are built on these requirements.
///
/// The protocol is `Sendable` because a reference to the reactor has to
/// travel to other threads for them to call ``callFromThread(_:)``; that
/// does not make the rest of a reactor thread-safe. Conforming types keep
/// their state confined to the reactor thread and, in debug builds, assert
/// the thread in the reactor-thread-only requirements.
public protocol ReactorThreads: AnyObject, Sendable {
    /// Queues `function` to run on the reactor thread during a later turn
    /// of the loop, waking the loop if it is waiting for I/O.
    ///
    /// Any thread, including the reactor thread itself (where it means
    /// "soon, after the current callback returns", never "now"). Functions
    /// queued from one thread run in the order they were queued. A function
    /// queued before the reactor runs is run once it does.
    func callFromThread(_ function: @escaping @Sendable () -> Void)

    /// Runs `function` on a thread of the reactor's thread pool, starting
    /// the pool on first use. `function` must not touch the reactor or
    /// anything attached to it except through ``callFromThread(_:)``.
    ///
    /// Reactor thread only.
    func callInThread(_ function: @escaping @Sendable () -> Void)

    /// Asks for a thread pool of at most `size` threads; a hint the reactor
    /// may clamp to its own limits. Twisted's default pool has 10.
    ///
    /// Reactor thread only.
    func suggestThreadPoolSize(_ size: Int)

    /// `true` when the calling thread is the reactor thread: the thread
    /// running the loop, or, before it runs, the thread that created the
    /// reactor. Twisted's `threadable.isInIOThread`.
    ///
    /// Any thread.
    var isInIOThread: Bool { get }
}
