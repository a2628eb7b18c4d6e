/// Returns a Deferred that fires with the index and value of the first of
/// `deferreds` to succeed, and cancels all the others: Twisted's `race`.
///
/// - If every Deferred fails, it fails with a ``FailureGroup`` holding their
///   failures in list order.
/// - Cancelling it cancels every Deferred of the list; it then fires with
///   whatever that produces (usually a ``FailureGroup`` of
///   ``CancelledError``s, or a success if a canceller succeeds).
/// - Each raced Deferred continues with `()` (Twisted's `None`) after
///   reporting to the race, so a loser that fails after being cancelled is
///   not reported as an unhandled error.
/// - An empty list never fires until cancelled, as in Twisted.
///
/// Reactor thread only.
public func race<Value>(_ deferreds: [Deferred<Value>]) -> Deferred<(index: Int, value: Value)> {
    let state = RaceState(deferreds)
    let result = Deferred<(index: Int, value: Value)>(canceller: { _ in
        for deferred in state.deferreds { deferred.cancel() }
    })
    for (index, deferred) in deferreds.enumerated() {
        deferred.addObserver(consumeErrors: true, consumeValues: true) { outcome in
            switch outcome {
            case .success(let value):
                // Only the first success counts. A second one is possible
                // only if a loser's canceller succeeds; it goes nowhere.
                guard state.winner == nil else { return }
                state.winner = index
                // Forget the list before cancelling it: a loser that does not
                // fire (say, a paused one) must not keep the race alive.
                let losers = state.deferreds
                state.deferreds = []
                for (other, loser) in losers.enumerated() where other != index {
                    loser.cancel()
                }
                if !result.called { try? result.callback((index: index, value: value)) }
            case .failure(let failure):
                state.failures.append((index, failure))
                if state.failures.count == state.count, !result.called {
                    state.deferreds = []
                    let ordered = state.failures.sorted { $0.index < $1.index }.map(\.failure)
                    try? result.errback(FailureGroup(failures: ordered))
                }
            }
        }
    }
    return result
}

/// What a race has seen so far. Its observers reach the raced Deferreds
/// through it, so that the list can be dropped once the race is decided.
private final class RaceState<Value> {
    let count: Int
    var deferreds: [Deferred<Value>]
    var winner: Int?
    var failures: [(index: Int, failure: Failure)] = []

    init(_ deferreds: [Deferred<Value>]) {
        self.count = deferreds.count
        self.deferreds = deferreds
    }
}
