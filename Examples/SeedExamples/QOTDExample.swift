import TorsionProtocols

/// The configurable quote server of seed 000 ("Writing Servers"): the
/// `makeQOTDFactory(quote=None)` helper. The `QOTD` protocol and the
/// `QOTDFactory` class of the same seed are ``TorsionProtocols/QOTD`` and
/// ``TorsionProtocols/QOTDFactory``.
public enum QOTDExample {
    /// Returns a factory whose connections receive `quote` (or the default
    /// "An apple a day keeps the doctor away" when `quote` is `nil` or
    /// empty) followed by CRLF, then are closed.
    public static func makeQOTDFactory(quote: String? = nil) -> QOTDFactory {
        QOTDFactory(quote: quote)
    }
}
