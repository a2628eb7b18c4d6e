import TorsionCore

/// The Quote of the Day service of RFC 865: as soon as the connection is
/// made it writes the quote followed by CRLF and closes the connection
/// (after the write is flushed); anything the client sends is ignored.
///
/// The quote comes from the ``QOTDFactory`` that built the protocol; a
/// protocol built by any other factory sends ``QOTDFactory/defaultQuote``.
/// Reactor thread only.
public final class QOTD: Protocol {
    /// Makes a QOTD protocol, not yet connected.
    public override init() {}

    /// Writes the quote and CRLF, then calls `loseConnection()`.
    public override func connectionMade() {
        let quote = (factory as? QOTDFactory)?.quote ?? QOTDFactory.defaultQuote
        transport?.write(Array(quote.utf8) + [0x0D, 0x0A])
        transport?.loseConnection()
    }
}

/// Builds ``QOTD`` protocols that all send the same configured quote:
/// Twisted's `QOTDFactory` from the "Writing Servers" howto.
///
/// The quote is kept in the factory because protocols are made per
/// connection and configuration must outlive them. Reactor thread only.
public final class QOTDFactory: Factory {
    /// The quote used when none is given: "An apple a day keeps the doctor
    /// away", as in Twisted's documentation.
    public static let defaultQuote = "An apple a day keeps the doctor away"

    /// The quote every connection receives (without its CRLF). It may be
    /// changed between connections; a connection sends the value current
    /// when it is made.
    public var quote: String

    /// Makes a factory sending `quote`, or ``defaultQuote`` when `quote` is
    /// `nil` or empty (Twisted's `quote or default`).
    public init(quote: String? = nil) {
        if let quote, !quote.isEmpty {
            self.quote = quote
        } else {
            self.quote = Self.defaultQuote
        }
        super.init()
        makeProtocol = { QOTD() }
    }
}
