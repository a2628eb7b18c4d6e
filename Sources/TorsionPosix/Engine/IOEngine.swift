/// The seam between the reactor and the operating system's I/O facility.
///
/// The reactor never calls a poller: it asks its engine to watch
/// descriptors, to wait for the next batch of events (dispatching them to
/// the handlers given to ``watch(_:interest:handler:)``), and to be woken
/// from another thread. Today that is all the reactor needs (timers,
/// `callFromThread` and `ReactorFDSet`). The completion-style operations of
/// the design (accept, receive, send vectored, connect) are added to this
/// protocol with the TCP transport: ``ReadinessEngine`` will emulate them
/// with a nonblocking syscall on readiness, and an io_uring engine will
/// submit them natively — the transports above will not know which.
///
/// Loop thread only, except ``waker``.
protocol IOEngine: AnyObject {
    /// Wakes ``wait(timeout:)`` from any thread.
    var waker: Waker { get }

    /// Watches `fd` for `interest`, calling `handler` with the readiness
    /// (masked to the interest) from ``wait(timeout:)``. A readiness of
    /// ``PollerInterest/invalid`` means the fd was closed while watched; the
    /// handler must unwatch it. Calling it again
    /// for a watched fd changes the interest and handler; an empty interest
    /// stops watching.
    func watch(_ fd: Int32, interest: PollerInterest, handler: @escaping (PollerInterest) -> Void) throws

    /// Stops watching `fd`. Call it before closing the descriptor.
    func unwatch(_ fd: Int32)

    /// Number of descriptors watched for users (the waker excluded); zero
    /// after every registration was removed, which tests check for leaks.
    var watchedCount: Int { get }

    /// Waits up to `timeout` seconds (`nil`: until something happens) and
    /// dispatches what became ready. A wake-up through ``waker`` returns.
    func wait(timeout: Double?) throws

    /// Releases the engine's descriptors. Called once, when the reactor is
    /// done; the engine is unusable afterwards.
    func close()
}
