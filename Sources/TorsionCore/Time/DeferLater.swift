/// Calls `function` `delay` seconds from now on `clock` and returns a
/// Deferred for its result: Twisted's `task.deferLater`.
///
/// The Deferred fires with what `function` returns, or fails with what it
/// throws. Cancelling the Deferred before the delay elapsed cancels the
/// delayed call, so `function` never runs, and fails the Deferred with
/// ``CancelledError``.
///
/// Reactor thread only.
public func deferLater<Value>(
    _ clock: any ReactorTime, _ delay: Double, _ function: @escaping () throws -> Value
) -> Deferred<Value> {
    deferLaterFiring(clock, delay).addCallback { _ in try function() }
}

/// ``deferLater(_:_:_:)-(_,_,()->Value)`` for a function returning a
/// Deferred: the result fires when that Deferred fires, with its outcome.
public func deferLater<Value>(
    _ clock: any ReactorTime, _ delay: Double, _ function: @escaping () throws -> Deferred<Value>
) -> Deferred<Value> {
    deferLaterFiring(clock, delay).addCallback { _ in try function() }
}

/// A Deferred that fires with no value `delay` seconds from now on `clock`
/// (Twisted's `deferLater` without a callable); cancellable like
/// ``deferLater(_:_:_:)-(_,_,()->Value)``.
public func deferLater(_ clock: any ReactorTime, _ delay: Double) -> Deferred<Void> {
    deferLaterFiring(clock, delay)
}

/// The timer shared by every `deferLater`: a Deferred fired by a delayed
/// call, whose canceller cancels that call.
private func deferLaterFiring(_ clock: any ReactorTime, _ delay: Double) -> Deferred<Void> {
    // Weak: the clock keeps the call alive while it is pending, and a strong
    // reference would close the cycle call → Deferred → canceller → call.
    weak var delayedCall: DelayedCall?
    let deferred = Deferred<Void>(canceller: { _ in
        if let delayedCall, delayedCall.isActive { try? delayedCall.cancel() }
    })
    delayedCall = clock.callLater(delay) {
        // Only a cancel can have fired it first, and cancelling removes
        // this call, so the Deferred is unfired here.
        try? deferred.callback()
    }
    return deferred
}
