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
/// a Deferred, 100,000 levels deep, uses constant native stack. Releasing
/// such a tower is iterative too (``DeferredReleaseTrampoline``).
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

    /// The current outcome once fired; `nil` before, and while waiting on an
    /// inner chain. When an outer chain takes this chain's outcome, it is
    /// replaced by `success(())`, Twisted's `None`: links added afterwards
    /// still run, and the failure that was handed on is not reported twice.
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
    /// reference back would make an unfired pair that nobody can fire any
    /// more a leak (Twisted relies on its garbage collector there).
    private weak var chainedTo: DeferredChain?
    /// `true` from the moment a link returned an unfired inner chain until
    /// that chain hands its outcome over.
    private var waitingOnInner = false
    /// What the inner chain left behind when it was released unfired while
    /// this chain waited on it; see `adoptedByWaitingChain()`.
    private var orphan: Orphan?
    /// Called by `cancel()` before the chain fires; dropped when it fires, as
    /// it can no longer be called and would otherwise keep what it captured
    /// (often the Deferred itself, or the Deferreds of a DeferredList) alive.
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
        if !called { adoptedByWaitingChain() }
        // Hand over what this chain owns instead of letting Swift release
        // it recursively: see DeferredReleaseTrampoline.
        let trampoline = DeferredReleaseTrampoline.State.current
        trampoline.pending.append(.init(links: links, canceller: canceller, outcome: outcome, orphan: orphan))
        links = []
        canceller = nil
        outcome = nil
        orphan = nil
        trampoline.drain()
    }

    /// What an unfired chain leaves to the chain waiting on it when it is
    /// released: enough to rebuild it if that chain is cancelled.
    struct Orphan {
        var links: [Link]
        /// Where the continuation to the adopting chain goes back in `links`;
        /// it is left out while adopted, as it would be a reference cycle.
        var continuationIndex: Int
        var canceller: ((DeferredChain) -> Void)?
        var pauseCount: Int

        /// A new unfired chain with the orphaned links, canceller and pauses,
        /// whose continuation resumes `adopter`.
        func revive(continuingWith adopter: DeferredChain) -> DeferredChain {
            let chain = DeferredChain(canceller: canceller)
            chain.links = links
            chain.links[continuationIndex] = Link(continuation: adopter)
            chain.pauseCount = pauseCount
            return chain
        }
    }

    /// Called while an unfired chain is released and another chain may wait
    /// on it. Nobody can fire this chain any more, except the waiting chain
    /// through `cancel()`, as Twisted's waiting Deferred holds its inner
    /// Deferred. Rather than keep the pair alive (a cycle nothing could
    /// collect), the waiting chain adopts this chain's links and canceller
    /// and rebuilds it only if it is cancelled.
    private func adoptedByWaitingChain() {
        guard let offset = links[nextLink...].firstIndex(where: { $0.continuation != nil }),
            let adopter = links[offset].continuation
        else { return }
        var pending = Array(links[nextLink...])
        pending[offset - nextLink] = Link()
        adopter.orphan = Orphan(
            links: pending, continuationIndex: offset - nextLink, canceller: canceller, pauseCount: pauseCount)
        links = []
        canceller = nil
    }

    var isPaused: Bool { pauseCount > 0 }

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
        canceller = nil
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
        } else if waitingOnInner {
            if let chainedTo {
                chainedTo.cancel()
            } else if let orphan {
                // The inner chain was released unfired: rebuild it from what
                // it left behind and cancel that, so that its canceller and
                // its callbacks run exactly as they would have in Twisted,
                // where this chain would have kept it alive.
                self.orphan = nil
                let revived = orphan.revive(continuingWith: self)
                chainedTo = revived
                revived.cancel()
            }
            // Otherwise the inner chain fired and was paused: as in Twisted,
            // cancelling it does nothing.
        }
    }

    /// The next link to run, or `nil` when none is left (the storage is then
    /// reset so that a long-lived chain does not accumulate spent links).
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
            while let outcome = current.outcome, let link = current.popLink() {
                if let waiting = link.continuation {
                    // Hand our outcome to the chain waiting on us and process
                    // it next, without recursion. Our own outcome becomes
                    // Twisted's `None`.
                    current.outcome = .success(())
                    waiting.outcome = outcome
                    waiting.chainedTo = nil
                    waiting.waitingOnInner = false
                    waiting.orphan = nil
                    waiting.pauseCount -= 1
                    stack.append(waiting)
                    finished = false
                    break
                }
                current.runningCallbacks = true
                let step: StepResult
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
                case .chain(let inner) where inner === current:
                    // Waiting on itself would never end. Twisted warns and
                    // announces an exception; the chain fails instead.
                    current.outcome = .failure(Failure(CircularChainError()))
                case .chain(let inner):
                    if let innerOutcome = inner.outcome, inner.pauseCount == 0 {
                        // Already fired: take its outcome now.
                        inner.outcome = .success(())
                        current.outcome = innerOutcome
                    } else {
                        // Wait: pause and let the inner chain resume us. If
                        // the inner chain already fired it is paused or
                        // running its own links; either way it reaches this
                        // continuation when it resumes.
                        current.outcome = nil
                        current.pauseCount += 1
                        current.chainedTo = inner
                        current.waitingOnInner = true
                        inner.links.append(Link(continuation: current))
                    }
                }
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
        return .failure(
            Failure(
                DeferredTypeMismatchError(
                    expected: String(describing: T.self),
                    actual: String(describing: Swift.type(of: value)))))
    }
}

/// A callback or errback returned the very Deferred it was added to, which
/// could only wait for itself forever; the chain continues with this failure
/// instead. Twisted warns about it ("Callback returned the Deferred it was
/// attached to") and plans to raise.
public struct CircularChainError: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "CircularChainError: a callback returned the Deferred it was attached to" }
}
