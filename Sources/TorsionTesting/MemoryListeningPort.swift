import TorsionCore

/// The listening port a ``MemoryReactor`` returns: it accepts nothing and
/// only tracks whether it is listening (Twisted's `_FakePort`, with state).
///
/// As in Twisted's fake, the factory is neither started nor stopped by the
/// port. Test thread only.
public final class MemoryListeningPort: ListeningPort {
    /// The address given at creation.
    public let host: any Address

    /// `true` from creation until ``stopListening()``, and again after
    /// ``startListening()``.
    public private(set) var listening = true

    /// Number of ``stopListening()`` calls, including ones on a port that
    /// was not listening.
    public private(set) var stopListeningCount = 0

    /// Makes a port that is listening on `host`.
    public init(host: any Address) {
        self.host = host
    }

    /// Marks the port listening again; never throws.
    public func startListening() throws {
        listening = true
    }

    /// Marks the port not listening; the returned Deferred has fired.
    @discardableResult
    public func stopListening() -> Deferred<Void> {
        listening = false
        stopListeningCount += 1
        return succeed()
    }
}
