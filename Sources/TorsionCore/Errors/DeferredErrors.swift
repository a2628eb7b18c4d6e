/// Thrown by ``Deferred/callback(_:)`` and ``Deferred/errback(_:)`` when the
/// Deferred already has a result: a Deferred fires exactly once.
public struct AlreadyCalledError: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "AlreadyCalledError: the Deferred has already been fired" }
}

/// The failure a Deferred receives when it is cancelled before it fired
/// (``Deferred/cancel()``), unless its canceller fired it otherwise.
public struct CancelledError: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "CancelledError: the Deferred was cancelled" }
}

/// A value of an unexpected type reached a callback.
///
/// A ``Deferred`` is a typed view of a shared callback chain. If the chain
/// was given a new value type through one view (`let s = d.addCallback
/// { String($0) }`) and a callback is then added through an older view
/// (`d.addCallback { (n: Int) in … }`), the value cannot be handed over;
/// the callback is skipped and the chain continues with this failure instead
/// of crashing. Twisted, being untyped, would pass the value anyway.
public struct DeferredTypeMismatchError: Error, CustomStringConvertible {
    /// The type the callback expected.
    public let expected: String
    /// The type of the value in the chain.
    public let actual: String
    /// Makes the error from the two type names.
    public init(expected: String, actual: String) {
        self.expected = expected
        self.actual = actual
    }
    /// Names both types.
    public var description: String {
        "DeferredTypeMismatchError: callback expects \(expected) but the chain holds \(actual)"
    }
}

/// One or more Deferreds of a ``DeferredList`` or ``gatherResults(_:consumeErrors:)``
/// failed; `failure` is the first failure, `index` the position of the
/// Deferred that produced it. Twisted's `FirstError`.
public struct FirstError: Error, CustomStringConvertible {
    /// The failure of the Deferred at ``index``.
    public let failure: Failure
    /// The position of the failed Deferred in the list.
    public let index: Int
    /// Makes the error.
    public init(failure: Failure, index: Int) {
        self.failure = failure
        self.index = index
    }
    /// Names the index and the failure.
    public var description: String { "FirstError[#\(index), \(failure)]" }
}

/// Every Deferred given to ``race(_:)`` failed; `failures` holds their
/// failures in list order. Twisted's `FailureGroup`.
public struct FailureGroup: Error, CustomStringConvertible {
    /// The failures, in the order of the raced Deferreds.
    public let failures: [Failure]
    /// Makes the error.
    public init(failures: [Failure]) { self.failures = failures }
    /// Lists the failures.
    public var description: String {
        "FailureGroup(\(failures.map(\.description).joined(separator: ", ")))"
    }
}

/// ``DeferredQueue/put(_:)`` was refused because the queue already holds
/// ``DeferredQueue/size`` items. Twisted's `QueueOverflow`.
public struct QueueOverflow: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "QueueOverflow: the DeferredQueue is full" }
}

/// ``DeferredQueue/get()`` was refused because ``DeferredQueue/backlog``
/// getters are already waiting. Twisted's `QueueUnderflow`.
public struct QueueUnderflow: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String { "QueueUnderflow: too many pending gets on the DeferredQueue" }
}
