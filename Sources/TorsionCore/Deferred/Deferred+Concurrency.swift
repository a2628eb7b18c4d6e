// The bridge between Deferreds and Swift concurrency: `await` a Deferred,
// and run async code on the reactor thread as a Deferred (Twisted's
// `ensureDeferred` / `inlineCallbacks`, with async/await as the coroutine).

extension Deferred where Value: Sendable {
    /// Waits for the Deferred to fire and returns its value, or throws the
    /// error its failure wraps (``Failure/error``, not the `Failure`); a
    /// cancelled Deferred throws ``CancelledError``.
    ///
    /// Awaiting hands the result to the awaiting code: like Twisted's
    /// `await d`, the chain continues with no value (`Void`), so a failure
    /// thrown here is not also reported as unhandled. Await a Deferred once;
    /// callbacks added before the `await` see the value as usual.
    ///
    /// Runs on the caller's executor and must be called where the Deferred
    /// may be touched: on the reactor thread, which is where the operation
    /// of ``init(on:operation:)`` runs. Inside such an operation, cancelling
    /// the task (for example by cancelling the outer Deferred) cancels the
    /// awaited Deferred on the reactor thread, as cancelling an
    /// `inlineCallbacks` Deferred cancels the Deferred it waits on.
    /// Elsewhere the task's cancellation is not propagated: there is no
    /// reactor to reach the Deferred's thread, and the await ends when the
    /// Deferred fires.
    nonisolated(nonsending) public var value: Value {
        get async throws {
            let deferred = ReactorThreadBox(self)
            let reactor = ReactorTaskContext.reactor
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                    addBoth { result -> Void in
                        switch result {
                        case .success(let value): continuation.resume(returning: value)
                        case .failure(let failure): continuation.resume(throwing: failure.error)
                        }
                    }
                }
            } onCancel: {
                reactor?.callFromThread { deferred.value.cancel() }
            }
        }
    }

    /// Runs `operation` as a Swift task on `reactor`'s thread and fires the
    /// Deferred with its outcome: Twisted's `Deferred.fromCoroutine` /
    /// `inlineCallbacks`, with async/await as the coroutine.
    ///
    /// The task prefers an executor that runs its jobs through
    /// ``ReactorThreads/callFromThread(_:)``, so every part of `operation`
    /// that is not isolated to an actor runs on the reactor thread and may
    /// use the reactor, transports and Deferreds (including `await` on
    /// their ``value``). The task starts, and the Deferred fires once the
    /// operation finished, from functions queued with `callFromThread`:
    /// never synchronously inside this initializer.
    ///
    /// A `CancellationError` thrown by the operation fails the Deferred
    /// with ``CancelledError``, so Deferred code checks one type. Cancelling
    /// the Deferred cancels the task and fails the Deferred with
    /// ``CancelledError`` at once; what the operation produces afterwards is
    /// dropped, never an ``AlreadyCalledError``.
    ///
    /// Reactor thread only (the initializer); `operation` runs there too.
    public init(
        on reactor: some ReactorThreads,
        operation: @escaping @Sendable () async throws -> Value
    ) {
        let task = TaskHandle()
        self.init(canceller: { _ in task.task?.cancel() })
        let deferred = ReactorThreadBox(self)
        let reactor: any ReactorThreads = reactor
        task.task = Task(executorPreference: ReactorTaskExecutor(reactor)) {
            let result: Result<Value, any Error>
            do {
                result = .success(try await ReactorTaskContext.$reactor.withValue(reactor, operation: operation))
            } catch is CancellationError {
                result = .failure(CancelledError())
            } catch {
                result = .failure(error)
            }
            reactor.callFromThread {
                // Only cancel() can have fired it before the task ended.
                guard !deferred.value.called else { return }
                try? deferred.value.fire(with: result)
            }
        }
    }
}

/// The task behind a ``Deferred/init(on:operation:)`` Deferred, for its
/// canceller. Reactor thread only: set in the initializer, read by the
/// canceller, both on the reactor thread.
private final class TaskHandle {
    var task: Task<Void, Never>?
}

/// The reactor whose thread the current task runs on, set for the
/// operation of ``Deferred/init(on:operation:)`` and inherited by its child
/// tasks; ``Deferred/value`` uses it to cancel an awaited Deferred.
enum ReactorTaskContext {
    @TaskLocal static var reactor: (any ReactorThreads)?
}

/// Carries a reactor-thread-only value through a `@Sendable` closure.
///
// SAFETY: the value is created on the reactor thread and only used there:
// either by code already running on the reactor thread (the operation's
// task, whose jobs run through `callFromThread`) or inside closures passed
// to `callFromThread`. The box moves the reference between those points and
// never lets two threads use the value concurrently.
final class ReactorThreadBox<Wrapped>: @unchecked Sendable {
    let value: Wrapped
    init(_ value: Wrapped) { self.value = value }
}

/// A task executor whose jobs run on a reactor's thread, queued through
/// ``ReactorThreads/callFromThread(_:)`` and run one at a time in order.
final class ReactorTaskExecutor: TaskExecutor {
    private let reactor: any ReactorThreads

    init(_ reactor: any ReactorThreads) {
        self.reactor = reactor
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        reactor.callFromThread { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
