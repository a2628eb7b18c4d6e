/// The untyped, shared callback chain behind every ``Deferred`` view.
///
/// Twisted's `Deferred` keeps one list of (callback, errback) pairs and one
/// current result; Swift's typed `Deferred<Value>` is a value-type view onto
/// this object, so `d.addCallback(f); d.addCallback(g)` on the same `d`
/// appends to one chain exactly as in Twisted, and a type-changing
/// `addCallback` returns a new view of the same chain.
///
/// Callbacks run iteratively (Twisted's `_runCallbacks` with an explicit
/// stack of chains), so a callback returning a Deferred that itself waits on
/// a Deferred, 100,000 levels deep, uses constant native stack.
///
/// Reactor thread only.
@usableFromInline
final class DeferredChain {
    /// The current value of a chain: a success of any type or a failure.
    enum Outcome {
        case success(Any)
        case failure(Failure)
    }

    /// What a link produces: a result, or a Deferred whose result the chain
    /// must wait for.
    enum StepResult {
        case outcome(Outcome)
        case chain(DeferredChain)
    }

    /// One level of the chain. `nil` sides pass the outcome through.
    /// `continuation` is the internal link by which an inner chain hands its
    /// result to the outer chain waiting on it.
    struct Link {
        var onSuccess: ((Any) -> StepResult)?
        var onFailure: ((Failure) -> StepResult)?
        var continuation: DeferredChain?
    }

    /// Links not run yet, consumed front to back.
    private var links: [Link] = []
    private var nextLink = 0

    /// The current outcome once fired (`nil` before, and after it was handed
    /// to an outer chain).
    private(set) var outcome: Outcome?
    /// `true` once `callback`/`errback` ran, even if the outcome was later
    /// handed on.
    private(set) var called = false
    /// Number of outstanding pauses (user pauses plus waiting on an inner chain).
    private var pauseCount = 0
    /// `true` while this chain's links are being run; re-entrant calls return
    /// and leave the work to the running loop.
    private var runningCallbacks = false
    /// The inner chain this one waits on, for cancellation. Weak: the inner
    /// chain holds this one through its continuation link, and a strong
    /// reference back would make an unfired pair a leak.
    private weak var chainedTo: DeferredChain?
    /// `true` while waiting on an inner chain (`chainedTo` may have gone).
    private var waitingOnInner = false
    /// Called by `cancel()` before the chain fires.
    var canceller: ((DeferredChain) -> Void)?
    /// Set by `cancel()` without a canceller: a later `callback` is ignored.
    private var suppressAlreadyCalled = false

    init(canceller: ((DeferredChain) -> Void)? = nil) {
        self.canceller = canceller
    }

    deinit {
        if case .failure(let failure) = outcome {
            DeferredDiagnostics.reportUnhandled(failure)
        }
    }

    var isPaused: Bool { pauseCount > 0 }

    /// `true` when the chain has fired and its outcome is available now.
    var hasOutcome: Bool { outcome != nil && pauseCount == 0 }

    // MARK: Firing

    func fire(_ outcome: Outcome) throws(AlreadyCalledError) {
        if called {
            if suppressAlreadyCalled {
                suppressAlreadyCalled = false
                return
            }
            throw AlreadyCalledError()
        }
        called = true
        self.outcome = outcome
        runCallbacks()
    }

    func append(_ link: Link) {
        links.append(link)
        if called { runCallbacks() }
    }

    func pause() { pauseCount += 1 }

    func unpause() {
        precondition(pauseCount > 0, "Deferred.unpause() without a matching pause()")
        pauseCount -= 1
        if pauseCount == 0 && called { runCallbacks() }
    }

    func cancel() {
        if !called {
            if let canceller {
                canceller(self)
            } else {
                suppressAlreadyCalled = true
            }
            if !called {
                try? fire(.failure(Failure(CancelledError())))
            }
        } else if let chainedTo {
            chainedTo.cancel()
        }
    }

    private func popLink() -> Link? {
        guard nextLink < links.count else {
            if !links.isEmpty {
                links.removeAll(keepingCapacity: true)
                nextLink = 0
            }
            return nil
        }
        let link = links[nextLink]
        links[nextLink] = Link()
        nextLink += 1
        return link
    }

    /// Runs as many links as possible, iteratively across nested chains.
    private func runCallbacks() {
        if runningCallbacks { return }
        var stack: [DeferredChain] = [self]
        while let current = stack.last {
            if current.pauseCount > 0 { return }
            var finished = true
            current.chainedTo = nil
            current.waitingOnInner = false
            while let link = current.popLink() {
                if let waiting = link.continuation {
                    // Hand our outcome to the chain waiting on us and process
                    // it next, without recursion.
                    waiting.outcome = current.outcome
                    current.outcome = nil
                    waiting.pauseCount -= 1
                    stack.append(waiting)
                    finished = false
                    break
                }
                guard let outcome = current.outcome else { break }
                let step: StepResult
                current.runningCallbacks = true
                switch outcome {
                case .success(let value):
                    step = link.onSuccess?(value) ?? .outcome(outcome)
                case .failure(let failure):
                    step = link.onFailure?(failure) ?? .outcome(outcome)
                }
                current.runningCallbacks = false
                switch step {
                case .outcome(let next):
                    current.outcome = next
                case .chain(let inner):
                    precondition(inner !== current, "a Deferred callback returned its own Deferred")
                    if let innerOutcome = inner.outcome, inner.pauseCount == 0 {
                        // Already fired: take its outcome now.
                        inner.outcome = nil
                        current.outcome = innerOutcome
                    } else {
                        // Wait: pause and let the inner chain resume us.
                        current.outcome = nil
                        current.pauseCount += 1
                        current.chainedTo = inner
                        current.waitingOnInner = true
                        // If the inner chain already fired it is paused or
                        // running its own links; either way it reaches this
                        // continuation when it resumes.
                        inner.links.append(Link(continuation: current))
                    }
                }
                if current.waitingOnInner { break }
            }
            if finished {
                stack.removeLast()
            }
        }
    }

    // MARK: Typed access

    /// Converts a stored success to `T`, or reports a mismatch as a failure.
    @inline(__always)
    static func cast<T>(_ value: Any, to type: T.Type) -> Result<T, Failure> {
        if let typed = value as? T { return .success(typed) }
        return .failure(Failure(DeferredTypeMismatchError(
            expected: String(describing: T.self),
            actual: String(describing: Swift.type(of: value)))))
    }
}
