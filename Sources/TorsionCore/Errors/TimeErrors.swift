/// Thrown by ``DelayedCall/cancel()``, ``DelayedCall/delay(_:)`` and
/// ``DelayedCall/reset(_:)`` when the call has already run.
public struct AlreadyCalled: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "AlreadyCalled: the delayed call has already run" }
}

/// Thrown by ``DelayedCall/cancel()``, ``DelayedCall/delay(_:)`` and
/// ``DelayedCall/reset(_:)`` when the call was already cancelled.
public struct AlreadyCancelled: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "AlreadyCancelled: the delayed call was cancelled" }
}
