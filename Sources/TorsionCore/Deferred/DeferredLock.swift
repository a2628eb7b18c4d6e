/// A lock or semaphore for event-driven code: acquiring it returns a
/// Deferred that fires when the caller holds it. Twisted's
/// `_ConcurrencyPrimitive`, whose `run` this protocol's extension provides.
///
/// Reactor thread only.
public protocol DeferredConcurrencyPrimitive: AnyObject {
    /// Returns a Deferred that fires with the primitive once the caller holds
    /// it; waiting requests are served first come, first served. Cancelling
    /// a request that is still waiting withdraws it (it fails with
    /// ``CancelledError``); cancelling one that was served does nothing.
    func acquire() -> Deferred<Self>

    /// Gives back what one fired ``acquire()`` obtained, serving the next
    /// waiting request if there is one.
    ///
    /// - Throws: ``UnbalancedReleaseError`` if nothing is held.
    func release() throws(UnbalancedReleaseError)
}

extension DeferredConcurrencyPrimitive {
    /// Acquires, runs `body`, and releases once the Deferred `body` returns
    /// has fired, whatever its outcome; the result is that Deferred's.
    ///
    /// As in Twisted, the release comes first: a waiting request is served
    /// (its callbacks run) before the result reaches the callbacks of the
    /// returned Deferred.
    ///
    /// If `body` throws, the primitive is released and the returned Deferred
    /// fails with the error. Cancelling the returned Deferred while it waits
    /// to acquire withdraws the request (`body` never runs); while `body`'s
    /// Deferred is pending, cancels that one (and then releases).
    @discardableResult
    public func run<T>(_ body: @escaping () throws -> Deferred<T>) -> Deferred<T> {
        acquire().addCallback { primitive -> Deferred<T> in
            maybeDeferred(body).addBoth { result -> T in
                try? primitive.release()
                return try result.get()
            }
        }
    }

    /// Acquires, runs `body` and releases at once: the Deferred-returning `run(_:)`
    /// for a synchronous `body`.
    @discardableResult
    public func run<T>(_ body: @escaping () throws -> T) -> Deferred<T> {
        run { () throws -> Deferred<T> in succeed(try body()) }
    }
}

/// ``DeferredConcurrencyPrimitive/release()`` was called while nothing was
/// held: more releases than successful acquisitions. Twisted asserts here.
public struct UnbalancedReleaseError: Error, CustomStringConvertible {
    /// What was released too often, for the message.
    public let primitive: String
    /// Makes the error.
    public init(primitive: String) { self.primitive = primitive }
    /// Names the primitive.
    public var description: String { "UnbalancedReleaseError: \(primitive) released more often than acquired" }
}

/// A lock for event-driven code: Twisted's `DeferredLock`.
///
/// At most one holder at a time; ``acquire()`` fires at once when the lock
/// is free, and otherwise when the holders before it have released it.
/// Reactor thread only.
public final class DeferredLock: DeferredConcurrencyPrimitive {
    /// `true` while someone holds the lock. Useful for a non-waiting check;
    /// the lock is passed directly from a releasing holder to the next
    /// waiter, so it stays `true` while anyone waits.
    public private(set) var locked = false

    private let waiters = DeferredWaitList<DeferredLock>()

    /// Makes an unlocked lock.
    public init() {}

    /// Number of ``acquire()`` requests waiting for the lock.
    public var waitingCount: Int { waiters.count }

    /// Returns a Deferred that fires with the lock once the caller holds it.
    public func acquire() -> Deferred<DeferredLock> {
        if locked { return waiters.makeWaiter() }
        locked = true
        return succeed(self)
    }

    /// Releases the lock, handing it to the first waiting request if any.
    ///
    /// - Throws: ``UnbalancedReleaseError`` if the lock is not held.
    public func release() throws(UnbalancedReleaseError) {
        guard locked else { throw UnbalancedReleaseError(primitive: "DeferredLock") }
        // Stay locked while handing over, so that the waiter's callbacks
        // see the lock held by them.
        if !waiters.fireFirst(with: self) {
            locked = false
        }
    }
}

/// A semaphore for event-driven code: Twisted's `DeferredSemaphore`. At most
/// ``limit`` holders at a time; useful to bound how many operations run in
/// parallel. Reactor thread only.
public final class DeferredSemaphore: DeferredConcurrencyPrimitive {
    /// How many holders are allowed at once.
    public let limit: Int
    /// How many more holders could acquire right now: `limit` minus the
    /// current holders. Never negative.
    public private(set) var tokens: Int

    private let waiters = DeferredWaitList<DeferredSemaphore>()

    /// Makes a semaphore allowing `tokens` holders at once.
    ///
    /// - Throws: ``InvalidSemaphoreTokensError`` if `tokens` is less than 1
    ///   (Twisted raises `ValueError`).
    public init(tokens: Int) throws(InvalidSemaphoreTokensError) {
        guard tokens >= 1 else { throw InvalidSemaphoreTokensError(tokens: tokens) }
        self.limit = tokens
        self.tokens = tokens
    }

    /// Number of ``acquire()`` requests waiting for a token.
    public var waitingCount: Int { waiters.count }

    /// Returns a Deferred that fires with the semaphore once the caller holds
    /// one of its tokens.
    public func acquire() -> Deferred<DeferredSemaphore> {
        if tokens == 0 { return waiters.makeWaiter() }
        tokens -= 1
        return succeed(self)
    }

    /// Gives back a token, handing it straight to the first waiting request
    /// if any.
    ///
    /// - Throws: ``UnbalancedReleaseError`` if every token is already free.
    public func release() throws(UnbalancedReleaseError) {
        guard tokens < limit else { throw UnbalancedReleaseError(primitive: "DeferredSemaphore") }
        if !waiters.fireFirst(with: self) {
            tokens += 1
        }
    }
}

/// ``DeferredSemaphore/init(tokens:)`` was given fewer than one token.
public struct InvalidSemaphoreTokensError: Error, CustomStringConvertible {
    /// The token count that was refused.
    public let tokens: Int
    /// Makes the error.
    public init(tokens: Int) { self.tokens = tokens }
    /// Names the refused count.
    public var description: String {
        "InvalidSemaphoreTokensError: a DeferredSemaphore needs at least 1 token, got \(tokens)"
    }
}
