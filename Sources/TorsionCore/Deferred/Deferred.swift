/// A result that is not available yet, and the chain of callbacks that will
/// process it: Twisted's `Deferred`, typed for Swift.
///
/// A Deferred fires once, with ``callback(_:)`` (success) or ``errback(_:)``
/// (a ``Failure``). Each `addCallback`/`addErrback`/`addBoth`/`addCallbacks`
/// adds one *level* to the chain: the callback side runs when the level
/// receives a success, the errback side when it receives a failure, and
/// what a level returns or throws becomes the input of the next level. A
/// callback that throws switches the chain to the errback side; an errback
/// that returns a value switches it back; an errback re-raises with
/// `throw failure`.
///
/// A callback may return another Deferred: the chain pauses until that one
/// fires and continues with its result; the inner Deferred itself continues
/// with `()` (Twisted's `None`), so its failure is not reported twice. This
/// runs iteratively, and releasing is iterative too, so chains of any depth
/// use constant stack. A callback that returns the very Deferred it was
/// added to fails the chain with ``CircularChainError``.
///
/// `Deferred<Value>` is a lightweight view onto a shared chain, so adding
/// callbacks through any copy of it affects the same chain, as in Twisted.
/// Methods that change the value type return a view with the new type.
///
/// A failure still in the chain when the last reference to it goes away is
/// logged as "Unhandled error in Deferred" (see ``DeferredDiagnostics``).
///
/// Reactor thread only: a Deferred, its callbacks and whoever fires it
/// belong to one thread.
public struct Deferred<Value> {
    @usableFromInline
    let chain: DeferredChain

    init(chain: DeferredChain) { self.chain = chain }

    /// Makes an unfired Deferred.
    ///
    /// - Parameter canceller: called by ``cancel()`` while the Deferred has
    ///   not fired, to stop the work that would fire it. If the canceller
    ///   does not fire the Deferred itself, it is errbacked with
    ///   ``CancelledError``.
    public init(canceller: ((Deferred<Value>) -> Void)? = nil) {
        if let canceller {
            chain = DeferredChain(canceller: { canceller(Deferred(chain: $0)) })
        } else {
            chain = DeferredChain()
        }
    }

    // MARK: State

    /// `true` once ``callback(_:)`` or ``errback(_:)`` has been called.
    public var called: Bool { chain.called }

    /// `true` while paused, by ``pause()`` or while waiting on a Deferred
    /// returned by a callback.
    public var paused: Bool { chain.isPaused }

    // MARK: Firing

    /// Fires the Deferred with a success, running the callbacks added so far.
    ///
    /// - Throws: ``AlreadyCalledError`` if it already fired. After
    ///   ``cancel()`` without a canceller, one late `callback` is silently
    ///   ignored instead, as in Twisted.
    public func callback(_ value: Value) throws(AlreadyCalledError) {
        try chain.fire(.success(value))
    }

    /// Fires the Deferred with a failure, running the errbacks added so far.
    ///
    /// - Throws: ``AlreadyCalledError`` if it already fired.
    public func errback(_ error: any Error) throws(AlreadyCalledError) {
        try chain.fire(.failure(Failure(error)))
    }

    /// Fires the Deferred with a failure carrying `message`, as Twisted code
    /// does with `d.errback("…")`.
    public func errback(message: String) throws(AlreadyCalledError) {
        try chain.fire(.failure(Failure(message: message)))
    }

    /// Fires the Deferred with `result`.
    public func fire(with result: Result<Value, any Error>) throws(AlreadyCalledError) {
        switch result {
        case .success(let value): try callback(value)
        case .failure(let error): try errback(error)
        }
    }

    // MARK: Adding callbacks

    /// Adds a level whose callback maps the value; failures pass through.
    @discardableResult
    public func addCallback<New>(_ callback: @escaping (Value) throws -> New) -> Deferred<New> {
        chain.append(.init(onSuccess: Self.step(callback)))
        return Deferred<New>(chain: chain)
    }

    /// Adds a level whose callback returns a Deferred: the chain waits for it
    /// and continues with its result. Failures pass through.
    @discardableResult
    public func addCallback<New>(_ callback: @escaping (Value) throws -> Deferred<New>) -> Deferred<New> {
        chain.append(.init(onSuccess: Self.chainingStep(callback)))
        return Deferred<New>(chain: chain)
    }

    /// Adds a level whose errback handles a failure by returning a value
    /// (recovering) or throwing (`throw failure` re-raises). Successes pass
    /// through.
    @discardableResult
    public func addErrback(_ errback: @escaping (Failure) throws -> Value) -> Deferred<Value> {
        chain.append(.init(onFailure: Self.errorStep(errback)))
        return self
    }

    /// Adds a level whose errback returns a Deferred to wait for.
    @discardableResult
    public func addErrback(_ errback: @escaping (Failure) throws -> Deferred<Value>) -> Deferred<Value> {
        chain.append(.init(onFailure: Self.chainingErrorStep(errback)))
        return self
    }

    /// Adds a level whose callback and errback are the same function,
    /// receiving the outcome as a `Result` (Twisted's `addBoth`: the
    /// `finally` of a chain).
    @discardableResult
    public func addBoth<New>(_ handler: @escaping (Result<Value, Failure>) throws -> New) -> Deferred<New> {
        chain.append(Self.bothLink(handler))
        return Deferred<New>(chain: chain)
    }

    /// ``addBoth(_:)`` with a handler returning a Deferred to wait for.
    @discardableResult
    public func addBoth<New>(
        _ handler: @escaping (Result<Value, Failure>) throws -> Deferred<New>
    ) -> Deferred<New> {
        chain.append(Self.bothChainingLink(handler))
        return Deferred<New>(chain: chain)
    }

    /// Adds one level with a callback *and* an errback.
    ///
    /// Unlike `addCallback(cb).addErrback(eb)`, which adds two levels, the
    /// errback here does not see a failure thrown by `callback`: that
    /// failure goes to the next level. Both sides must produce the same type.
    @discardableResult
    public func addCallbacks<New>(
        _ callback: @escaping (Value) throws -> New,
        _ errback: @escaping (Failure) throws -> New
    ) -> Deferred<New> {
        chain.append(.init(onSuccess: Self.step(callback), onFailure: Self.errorStep(errback)))
        return Deferred<New>(chain: chain)
    }

    /// ``addCallbacks(_:_:)`` where both sides return a Deferred to wait for.
    @discardableResult
    public func addCallbacks<New>(
        _ callback: @escaping (Value) throws -> Deferred<New>,
        _ errback: @escaping (Failure) throws -> Deferred<New>
    ) -> Deferred<New> {
        chain.append(
            .init(
                onSuccess: Self.chainingStep(callback),
                onFailure: Self.chainingErrorStep(errback)))
        return Deferred<New>(chain: chain)
    }

    /// Makes `other` fire with this Deferred's outcome; this chain then
    /// continues with no value (Twisted's `chainDeferred`, whose chain
    /// continues with `None`).
    ///
    /// If `other` has already fired, this chain continues with the
    /// ``AlreadyCalledError`` instead, as in Twisted. As in Twisted, `other`
    /// runs its callbacks nested inside this chain's, so a very long series
    /// of `chainDeferred` calls uses stack in proportion to its length;
    /// returning a Deferred from a callback does not.
    @discardableResult
    public func chainDeferred(_ other: Deferred<Value>) -> Deferred<Void> {
        addBoth { result -> Void in
            try other.fire(with: result.mapError { $0 as any Error })
        }
    }

    // MARK: Flow control

    /// Stops running callbacks until a matching ``unpause()``. Callbacks
    /// added meanwhile are queued.
    public func pause() { chain.pause() }

    /// Undoes one ``pause()``; when no pause is left, runs pending callbacks.
    public func unpause() { chain.unpause() }

    /// Cancels the operation the Deferred stands for.
    ///
    /// Before it fired: calls the canceller, and if the Deferred is still
    /// unfired afterwards, errbacks it with ``CancelledError``. While it is
    /// waiting on a Deferred returned by a callback: cancels that one. After
    /// it fired: does nothing.
    public func cancel() { chain.cancel() }

    /// Fails the Deferred with ``TimeoutError`` if it has not fired within
    /// `timeout` seconds on `clock`, by cancelling it; the timer is
    /// cancelled when the Deferred fires first.
    ///
    /// - Parameter onTimeoutCancel: when the timeout fires, receives the
    ///   outcome of the cancellation and the timeout, and returns the outcome
    ///   the chain continues with. By default a ``CancelledError`` becomes
    ///   ``TimeoutError`` and anything a canceller produced passes through.
    @discardableResult
    public func addTimeout(
        _ timeout: Double,
        clock: any ReactorTime,
        onTimeoutCancel: ((Result<Value, Failure>, Double) throws -> Value)? = nil
    ) -> Deferred<Value> {
        var timedOut = false
        let delayedCall = clock.callLater(timeout) {
            timedOut = true
            self.cancel()
        }
        return addBoth { (result: Result<Value, Failure>) throws -> Value in
            if delayedCall.isActive { try? delayedCall.cancel() }
            if timedOut {
                if let onTimeoutCancel { return try onTimeoutCancel(result, timeout) }
                if case .failure(let failure) = result, failure.check(CancelledError.self) != nil {
                    throw TimeoutError(seconds: timeout)
                }
            }
            return try result.get()
        }
    }

    // MARK: Step builders

    private static func outcome<T>(_ body: () throws -> T) -> DeferredChain.StepResult {
        do {
            return .outcome(.success(try body()))
        } catch {
            return .outcome(.failure(Failure(error)))
        }
    }

    private static func chained<T>(_ body: () throws -> Deferred<T>) -> DeferredChain.StepResult {
        do {
            return .chain(try body().chain)
        } catch {
            return .outcome(.failure(Failure(error)))
        }
    }

    private static func typed(_ value: Any) -> Result<Value, Failure> {
        DeferredChain.cast(value, to: Value.self)
    }

    private static func step<New>(_ callback: @escaping (Value) throws -> New) -> (Any) -> DeferredChain.StepResult {
        { value in
            switch typed(value) {
            case .success(let value): return outcome { try callback(value) }
            case .failure(let failure): return .outcome(.failure(failure))
            }
        }
    }

    private static func chainingStep<New>(
        _ callback: @escaping (Value) throws -> Deferred<New>
    ) -> (Any) -> DeferredChain.StepResult {
        { value in
            switch typed(value) {
            case .success(let value): return chained { try callback(value) }
            case .failure(let failure): return .outcome(.failure(failure))
            }
        }
    }

    private static func errorStep<New>(
        _ errback: @escaping (Failure) throws -> New
    ) -> (Failure) -> DeferredChain.StepResult {
        { failure in outcome { try errback(failure) } }
    }

    private static func chainingErrorStep<New>(
        _ errback: @escaping (Failure) throws -> Deferred<New>
    ) -> (Failure) -> DeferredChain.StepResult {
        { failure in chained { try errback(failure) } }
    }

    private static func bothLink<New>(
        _ handler: @escaping (Result<Value, Failure>) throws -> New
    ) -> DeferredChain.Link {
        .init(
            onSuccess: { value in outcome { try handler(typed(value)) } },
            onFailure: { failure in outcome { try handler(.failure(failure)) } })
    }

    private static func bothChainingLink<New>(
        _ handler: @escaping (Result<Value, Failure>) throws -> Deferred<New>
    ) -> DeferredChain.Link {
        .init(
            onSuccess: { value in chained { try handler(typed(value)) } },
            onFailure: { failure in chained { try handler(.failure(failure)) } })
    }
}

extension Deferred where Value == Void {
    /// Fires a `Deferred<Void>` with success.
    public func callback() throws(AlreadyCalledError) {
        try callback(())
    }
}

extension Deferred: CustomStringConvertible {
    /// The state of the Deferred, for logs and test failures.
    public var description: String {
        let state = !chain.called ? "unfired" : chain.isPaused ? "paused" : "fired"
        return "Deferred<\(Value.self)>(\(state))"
    }
}

// MARK: - Constructors

/// A Deferred that has already succeeded with `value` (Twisted's `succeed`).
public func succeed<Value>(_ value: Value) -> Deferred<Value> {
    let deferred = Deferred<Value>()
    try! deferred.callback(value)  // A new Deferred cannot have fired already.
    return deferred
}

/// A `Deferred<Void>` that has already succeeded.
public func succeed() -> Deferred<Void> { succeed(()) }

/// A Deferred that has already failed with `error` (Twisted's `fail`).
public func fail<Value>(_ error: any Error, as type: Value.Type = Value.self) -> Deferred<Value> {
    let deferred = Deferred<Value>()
    try! deferred.errback(error)  // A new Deferred cannot have fired already.
    return deferred
}

/// Calls `body` and wraps its outcome in a Deferred: a value becomes a fired
/// Deferred, a thrown error a failed one (Twisted's `maybeDeferred`).
public func maybeDeferred<Value>(_ body: () throws -> Value) -> Deferred<Value> {
    do {
        return succeed(try body())
    } catch {
        return fail(error)
    }
}

/// Calls `body`, which returns a Deferred; a thrown error becomes a failed
/// Deferred (Twisted's `maybeDeferred` for functions that return Deferreds).
public func maybeDeferred<Value>(_ body: () throws -> Deferred<Value>) -> Deferred<Value> {
    do {
        return try body()
    } catch {
        return fail(error)
    }
}
