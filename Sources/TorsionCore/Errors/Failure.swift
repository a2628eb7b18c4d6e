/// An error travelling down a ``Deferred``'s errback chain: Twisted's
/// `twisted.python.failure.Failure`, reduced to what Swift needs.
///
/// A `Failure` wraps any `Error`. Wrapping is idempotent: `Failure(failure)`
/// returns the same failure rather than a failure of a failure, so an
/// errback that re-raises with `throw failure` hands the next errback exactly
/// what it received.
public struct Failure: Error, CustomStringConvertible {
    /// The wrapped error. Never itself a `Failure`.
    public let error: any Error

    /// Wraps `error`; a `Failure` passed in is returned unchanged.
    public init(_ error: any Error) {
        if let failure = error as? Failure {
            self = failure
        } else {
            self.error = error
        }
    }

    /// Wraps a plain message, for code that (like Twisted's seed examples)
    /// fails a Deferred with a string rather than a dedicated error type.
    public init(message: String) {
        self.error = FailureMessage(message: message)
    }

    /// A one-line, human-readable description of the wrapped error: its
    /// `CustomStringConvertible` text, or its type and value.
    public var errorMessage: String {
        if let message = error as? FailureMessage { return message.message }
        return String(describing: error)
    }

    /// The dynamic type of the wrapped error.
    public var errorType: any Error.Type { type(of: error) }

    /// Returns the first of `types` that the wrapped error is an instance of
    /// (a class error matches its superclasses too), or `nil`.
    ///
    /// Twisted's `Failure.check`: use it in an errback to branch on the kind
    /// of error without re-raising.
    public func check(_ types: any Error.Type...) -> (any Error.Type)? {
        types.first { matches($0) }
    }

    /// Returns the first of `types` the wrapped error is an instance of, or
    /// rethrows this failure when none matches.
    ///
    /// Twisted's `Failure.trap`: an errback that only handles some errors
    /// traps them and lets every other failure continue down the chain.
    @discardableResult
    public func trap(_ types: any Error.Type...) throws(Failure) -> any Error.Type {
        guard let match = types.first(where: { matches($0) }) else { throw self }
        return match
    }

    /// The wrapped error as `T`, when it is one.
    public func error<T: Error>(as type: T.Type) -> T? { error as? T }

    private func matches<T: Error>(_ type: T.Type) -> Bool { error is T }

    /// `[Failure TYPE: MESSAGE]`, like Twisted's `repr(failure)`.
    public var description: String {
        "[Failure \(type(of: error)): \(errorMessage)]"
    }
}

/// The error a ``Failure`` carries when it was made from a plain message
/// (``Failure/init(message:)``, ``Deferred/errback(message:)``).
public struct FailureMessage: Error, CustomStringConvertible, Equatable {
    /// The message given when the failure was made.
    public let message: String
    /// Makes an error carrying `message`.
    public init(message: String) { self.message = message }
    /// The message itself.
    public var description: String { message }
}
