/// A Deferred that fires with the results of several Deferreds: Twisted's
/// `DeferredList`.
///
/// `DeferredList([d1, d2, d3])` waits until every Deferred has fired and then
/// fires with one `Result` per Deferred, in list order: Twisted's list of
/// `(success, result)` pairs, typed. It never fails on its own, unless built
/// with `fireOnOneErrback: true` (see
/// ``Deferred/init(_:fireOnOneErrback:consumeErrors:)``). For Twisted's
/// `fireOnOneCallback=True`, use ``Deferred/init(firstSuccessOf:fireOnOneErrback:consumeErrors:)``.
///
/// Like Twisted's, a DeferredList is an ordinary Deferred: add callbacks to
/// it, cancel it (which cancels every Deferred of the list while it has not
/// fired). It works by adding one level to each Deferred of the list, so
/// callbacks added to them earlier change what the list sees, and callbacks
/// added later see what the list passes on.
///
/// Nobody needs to keep a reference to the list: each Deferred of it does,
/// until it fires. Until the list fires, it also holds its Deferreds (to
/// cancel them), so a list whose Deferreds nobody will ever fire is not
/// released; give such operations a timeout.
///
/// Reactor thread only, like the Deferreds it watches.
public typealias DeferredList<Value> = Deferred<[Result<Value, Failure>]>

/// What a Deferred built by ``Deferred/init(firstSuccessOf:fireOnOneErrback:consumeErrors:)``
/// fires with: Twisted's `DeferredList(…, fireOnOneCallback=True)`, whose
/// result is either `(result, index)` or, when nothing succeeded, the full
/// list of failures.
public enum FirstSuccess<Value> {
    /// The Deferred at `index` was the first to succeed, with `value`.
    case succeeded(value: Value, index: Int)
    /// Every Deferred failed (possible only without `fireOnOneErrback`); the
    /// failures are in list order.
    case allFailed([Failure])
}

extension Deferred {
    /// Makes a ``DeferredList``: a Deferred that fires with the results of
    /// `deferreds`, in their order, once all of them have fired.
    ///
    /// An empty list fires at once with `[]`.
    ///
    /// - Parameters:
    ///   - fireOnOneErrback: fail as soon as one Deferred fails, with a
    ///     ``FirstError`` carrying its failure and index, without waiting
    ///     for the others.
    ///   - consumeErrors: stop each failure here: after this list has seen
    ///     it, the failed Deferred continues with `()` (Twisted's `None`),
    ///     so it is not reported as an unhandled error and errbacks added to
    ///     it later do not run. Callbacks added to it later through a typed
    ///     view other than `Deferred<Void>` receive a
    ///     ``DeferredTypeMismatchError`` instead of `None`.
    public init<Element>(
        _ deferreds: [Deferred<Element>],
        fireOnOneErrback: Bool = false,
        consumeErrors: Bool = false
    ) where Value == [Result<Element, Failure>] {
        self.init(canceller: Self.cancellingAll(deferreds))
        if deferreds.isEmpty {
            try! callback([])  // A new Deferred cannot have fired already.
            return
        }
        Self.watch(deferreds, consumeErrors: consumeErrors, firing: self) { target, index, result, all in
            if fireOnOneErrback, case .failure(let failure) = result {
                try? target.errback(FirstError(failure: failure, index: index))
            } else if let all {
                try? target.callback(all)
            }
        }
    }

    /// Makes a Deferred that fires as soon as one of `deferreds` succeeds,
    /// with its value and index: Twisted's `DeferredList(…,
    /// fireOnOneCallback=True)`.
    ///
    /// If none succeeds, it fires with ``FirstSuccess/allFailed(_:)`` once
    /// all have failed, or, with `fireOnOneErrback`, fails with a
    /// ``FirstError`` at the first failure. An empty list never fires until
    /// cancelled, as in Twisted. The other Deferreds are left running; to cancel the losers,
    /// use ``race(_:)``.
    ///
    /// - Parameters:
    ///   - fireOnOneErrback: fail with ``FirstError`` at the first failure.
    ///   - consumeErrors: as in ``init(_:fireOnOneErrback:consumeErrors:)``.
    public init<Element>(
        firstSuccessOf deferreds: [Deferred<Element>],
        fireOnOneErrback: Bool = false,
        consumeErrors: Bool = false
    ) where Value == FirstSuccess<Element> {
        self.init(canceller: Self.cancellingAll(deferreds))
        Self.watch(deferreds, consumeErrors: consumeErrors, firing: self) { target, index, result, all in
            switch result {
            case .success(let value):
                try? target.callback(.succeeded(value: value, index: index))
            case .failure(let failure) where fireOnOneErrback:
                try? target.errback(FirstError(failure: failure, index: index))
            case .failure:
                if let all {
                    try? target.callback(.allFailed(all.compactMap(\.failureValue)))
                }
            }
        }
    }

    /// Adds to each of `deferreds` a level that records its result and then,
    /// while `target` has not fired, calls `decide` with `target`, the index,
    /// the result and, once every Deferred has reported, all the results in
    /// list order (Twisted's `DeferredList._cbDeferred`).
    private static func watch<Element>(
        _ deferreds: [Deferred<Element>],
        consumeErrors: Bool,
        firing target: Deferred<Value>,
        decide: @escaping (Deferred<Value>, Int, Result<Element, Failure>, [Result<Element, Failure>]?) -> Void
    ) {
        let collector = DeferredResultCollector<Element>(count: deferreds.count)
        for (index, deferred) in deferreds.enumerated() {
            deferred.addObserver(consumeErrors: consumeErrors) { result in
                collector.record(result, at: index)
                if !target.called { decide(target, index, result, collector.allResults) }
            }
        }
    }

    /// A canceller that cancels each of `deferreds` (Twisted's
    /// `DeferredList.cancel`); it runs only while the list has not fired.
    private static func cancellingAll<Element>(_ deferreds: [Deferred<Element>]) -> (Deferred<Value>) -> Void {
        { _ in
            for deferred in deferreds { deferred.cancel() }
        }
    }
}

/// Returns a Deferred that fires with the values of `deferreds`, in order,
/// once all have succeeded, or fails with a ``FirstError`` as soon as one
/// fails: Twisted's `gatherResults`, a "join" of several operations.
///
/// Cancelling it cancels every Deferred that has not fired. An empty list
/// gives `[]` at once.
///
/// - Parameter consumeErrors: as for ``DeferredList``: a failed Deferred
///   continues with `()` after this, so its failure is not also reported as
///   unhandled.
public func gatherResults<Value>(_ deferreds: [Deferred<Value>], consumeErrors: Bool = false) -> Deferred<[Value]> {
    DeferredList(deferreds, fireOnOneErrback: true, consumeErrors: consumeErrors)
        .addCallback { results in try results.map { try $0.get() } }
}

// MARK: - Shared plumbing

/// The results seen so far by a DeferredList, one slot per Deferred.
final class DeferredResultCollector<Element> {
    private var results: [Result<Element, Failure>?]
    private var finishedCount = 0

    init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    func record(_ result: Result<Element, Failure>, at index: Int) {
        if results[index] == nil { finishedCount += 1 }
        results[index] = result
    }

    /// Every result, once each Deferred has reported; `nil` before.
    var allResults: [Result<Element, Failure>]? {
        finishedCount == results.count ? results.compactMap { $0 } : nil
    }
}

extension Result {
    /// The error of a failure, `nil` for a success.
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension Deferred {
    /// Adds a level that reports the outcome to `observer` and then passes
    /// it on, or, as asked, replaces it by `()` (Twisted's `None`): a
    /// failure when `consumeErrors`, a value when `consumeValues`.
    func addObserver(
        consumeErrors: Bool,
        consumeValues: Bool = false,
        _ observer: @escaping (Result<Value, Failure>) -> Void
    ) {
        chain.append(
            DeferredChain.Link(
                onSuccess: { value in
                    let typed = DeferredChain.cast(value, to: Value.self)
                    observer(typed)
                    switch typed {
                    case .success:
                        return .outcome(consumeValues ? .success(()) : .success(value))
                    case .failure(let failure):
                        return .outcome(consumeErrors ? .success(()) : .failure(failure))
                    }
                },
                onFailure: { failure in
                    observer(.failure(failure))
                    return .outcome(consumeErrors ? .success(()) : .failure(failure))
                }))
    }
}
