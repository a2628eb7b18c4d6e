#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Testing
import TorsionCore

private struct Boom: Error {}

/// A ``ReactorThreads`` whose "reactor thread" is whoever calls ``drain(limit:)``:
/// `callFromThread` only queues, and the test runs the queue when it wants,
/// so every job of a ``Deferred/init(on:operation:)`` task runs at a point
/// the test chose, on the test's thread.
private final class ManualThreadsReactor: ReactorThreads {
    private let queue = Mutex<[@Sendable () -> Void]>([])
    /// The thread running ``drain(limit:)``, while it runs.
    private let drainingThread = Mutex<pthread_t?>(nil)

    func callFromThread(_ function: @escaping @Sendable () -> Void) {
        queue.withLock { $0.append(function) }
    }

    /// These tests have no thread pool; nothing here may ask for one.
    func callInThread(_ function: @escaping @Sendable () -> Void) {
        Issue.record("callInThread is not expected in these tests")
    }

    func suggestThreadPoolSize(_ size: Int) {}

    var isInIOThread: Bool {
        drainingThread.withLock { thread in thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    var pendingCount: Int { queue.withLock { $0.count } }

    /// Runs queued functions, including those queued while draining, until
    /// the queue is empty or `limit` functions ran. Returns how many ran.
    @discardableResult
    func drain(limit: Int = 10_000) -> Int {
        drainingThread.withLock { $0 = pthread_self() }
        defer { drainingThread.withLock { $0 = nil } }
        var ran = 0
        while ran < limit, let next = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            next()  // Outside the lock: a job may queue more.
            ran += 1
        }
        return ran
    }

    /// Drains until `condition` holds, yielding between rounds in case a job
    /// is queued from another thread; bounded, so a bug fails instead of
    /// hanging. Returns whether the condition was met.
    func drain(until condition: () -> Bool) async -> Bool {
        for _ in 0..<100 {
            drain()
            if condition() { return true }
            await Task.yield()
        }
        return condition()
    }
}

/// Hands a Deferred made by the test to an operation.
// SAFETY: the Deferred is only used on the test's thread: by the test
// itself, and by operations whose jobs run inside `drain`, which the test
// calls; the two never overlap.
private final class TestDeferred<Value>: @unchecked Sendable {
    let deferred: Deferred<Value>
    init(_ deferred: Deferred<Value>) { self.deferred = deferred }
}

/// Awaits Deferreds from an actor's isolation rather than a nonisolated one.
private actor Awaiter {
    func value(of box: TestDeferred<Int>) async throws -> Int {
        try await box.deferred.value
    }
}

@Suite("Deferred and Swift concurrency")
struct DeferredConcurrencyTests {
    // MARK: value

    @Test("value of a fired Deferred is its result")
    func valueOfFired() async throws {
        #expect(try await succeed(42).value == 42)
    }

    @Test("value of a failed Deferred throws the error the failure wraps")
    func valueOfFailed() async {
        await #expect(throws: Boom.self) { try await fail(Boom(), as: Int.self).value }
    }

    @Test("value of a cancelled Deferred throws CancelledError")
    func valueOfCancelled() async {
        let deferred = Deferred<Int>()
        deferred.cancel()
        await #expect(throws: CancelledError.self) { try await deferred.value }
    }

    @Test("value can be awaited from an actor's isolation")
    func valueFromActor() async throws {
        #expect(try await Awaiter().value(of: TestDeferred(succeed(5))) == 5)
    }

    @Test("awaiting consumes the result, so a failure is not left in the chain")
    func valueConsumes() async throws {
        let deferred = fail(Boom(), as: Void.self)
        await #expect(throws: Boom.self) { try await deferred.value }
        let after = TimeTestSupport.outcome(of: deferred)
        #expect(after.map { (try? $0.get()) != nil } == true)
    }

    // MARK: Deferred(on:operation:)

    @Test("the operation runs on the reactor thread and its value fires the Deferred")
    func operationSucceeds() async throws {
        let reactor = ManualThreadsReactor()
        let onReactorThread = Mutex<Bool?>(nil)
        let deferred = Deferred<Int>(on: reactor) {
            onReactorThread.withLock { $0 = reactor.isInIOThread }
            return 6 * 7
        }
        var firedOnReactorThread: Bool?
        deferred.addCallback { value -> Int in
            firedOnReactorThread = reactor.isInIOThread
            return value
        }
        #expect(!deferred.called)
        #expect(await reactor.drain { deferred.called })
        #expect(onReactorThread.withLock { $0 } == true)
        #expect(firedOnReactorThread == true)
        #expect(try await deferred.value == 42)
        #expect(reactor.pendingCount == 0)
    }

    @Test("an error thrown by the operation fails the Deferred")
    func operationFails() async {
        let reactor = ManualThreadsReactor()
        let deferred = Deferred<Int>(on: reactor) { throw Boom() }
        #expect(await reactor.drain { deferred.called })
        #expect(TimeTestSupport.failure(of: deferred)?.error is Boom)
    }

    @Test("a CancellationError thrown by the operation fails the Deferred with CancelledError")
    func cancellationErrorBecomesCancelledError() async {
        let reactor = ManualThreadsReactor()
        let deferred = Deferred<Int>(on: reactor) { throw CancellationError() }
        #expect(await reactor.drain { deferred.called })
        #expect(TimeTestSupport.failure(of: deferred)?.error is CancelledError)
    }

    @Test("the operation can await a Deferred that fires later, and resumes on the reactor thread")
    func operationAwaitsDeferred() async throws {
        let reactor = ManualThreadsReactor()
        let gate = TestDeferred(Deferred<Int>())
        let resumedOnReactorThread = Mutex<Bool?>(nil)
        let deferred = Deferred<Int>(on: reactor) {
            let value = try await gate.deferred.value
            resumedOnReactorThread.withLock { $0 = reactor.isInIOThread }
            return value * 2
        }
        reactor.drain()
        #expect(!deferred.called)
        #expect(resumedOnReactorThread.withLock { $0 } == nil)
        try gate.deferred.callback(21)
        #expect(await reactor.drain { deferred.called })
        #expect(resumedOnReactorThread.withLock { $0 } == true)
        #expect(try await deferred.value == 42)
    }

    @Test("cancelling the Deferred cancels the task and the Deferred it awaits")
    func cancelWhileAwaiting() async {
        let reactor = ManualThreadsReactor()
        let gate = TestDeferred(Deferred<Int>())
        let seen = Mutex<(error: String, taskCancelled: Bool)?>(nil)
        let deferred = Deferred<Int>(on: reactor) {
            do {
                return try await gate.deferred.value
            } catch {
                seen.withLock { $0 = ("\(type(of: error))", Task.isCancelled) }
                throw error
            }
        }
        reactor.drain()
        deferred.cancel()
        #expect(TimeTestSupport.failure(of: deferred)?.error is CancelledError)
        #expect(await reactor.drain { seen.withLock { $0 } != nil })
        #expect(seen.withLock { $0?.error } == "CancelledError")
        #expect(seen.withLock { $0?.taskCancelled } == true)
        #expect(gate.deferred.called)
    }

    @Test("an operation polling Task.isCancelled stops when the Deferred is cancelled")
    func cancelObservedByPolling() async {
        let reactor = ManualThreadsReactor()
        let polls = Mutex(0)
        let stopped = Mutex(false)
        let deferred = Deferred<Int>(on: reactor) {
            while !Task.isCancelled {
                polls.withLock { $0 += 1 }
                await Task.yield()
            }
            stopped.withLock { $0 = true }
            try Task.checkCancellation()
            return 0
        }
        reactor.drain(limit: 20)
        #expect(polls.withLock { $0 } > 1)
        #expect(!stopped.withLock { $0 })
        deferred.cancel()
        #expect(await reactor.drain { stopped.withLock { $0 } && reactor.pendingCount == 0 })
        #expect(TimeTestSupport.failure(of: deferred)?.error is CancelledError)
    }

    @Test("a result produced after cancellation is dropped without AlreadyCalledError")
    func lateResultDropped() async {
        let reactor = ManualThreadsReactor()
        let gate = TestDeferred(Deferred<Int>())
        let finished = Mutex(false)
        let deferred = Deferred<Int>(on: reactor) {
            let value = (try? await gate.deferred.value) ?? -1
            finished.withLock { $0 = true }
            return value
        }
        reactor.drain()
        deferred.cancel()
        #expect(await reactor.drain { finished.withLock { $0 } && reactor.pendingCount == 0 })
        #expect(TimeTestSupport.failure(of: deferred)?.error is CancelledError)
    }
}
