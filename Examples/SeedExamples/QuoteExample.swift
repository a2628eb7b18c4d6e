import TorsionCore

/// The quote server and client of seed 003 (*Twisted Network Programming
/// Essentials*, Examples 2-3 and 2-4). The server answers each message with
/// the quote it holds, then keeps the message as the next quote; each
/// client sends one quote, prints the one it gets back and disconnects; the
/// reactor stops when the last client is done (`maybeStopReactor`).
public enum QuoteExample {
    /// Example 2-3's `QuoteProtocol` (server side). Reactor thread only.
    public final class QuoteProtocol: Protocol {
        /// The factory holding the quote and the connection count (the
        /// seed passes it to the constructor).
        public let quoteFactory: QuoteFactory

        /// Makes the protocol for one connection of `factory`.
        public init(factory: QuoteFactory) {
            self.quoteFactory = factory
        }

        /// Counts the connection.
        public override func connectionMade() {
            quoteFactory.numConnections += 1
        }

        /// Writes the current quote, then makes `data` the next one.
        public override func dataReceived(_ data: [UInt8]) {
            transport?.write(getQuote())
            updateQuote(data)
        }

        /// Uncounts the connection.
        public override func connectionLost(reason: Failure) {
            quoteFactory.numConnections -= 1
            super.connectionLost(reason: reason)
        }

        /// The factory's current quote.
        public func getQuote() -> [UInt8] { quoteFactory.quote }

        /// Replaces the factory's quote with `quote`.
        public func updateQuote(_ quote: [UInt8]) { quoteFactory.quote = quote }
    }

    /// Example 2-3's `QuoteFactory`: the quote shared by every connection
    /// and the number of live connections. Reactor thread only.
    public final class QuoteFactory: Factory {
        /// The quote the next message is answered with.
        public internal(set) var quote: [UInt8]

        /// Connections open now.
        public internal(set) var numConnections = 0

        /// Makes a factory starting with `quote`, or `Hello world` when
        /// `quote` is `nil`.
        public init(quote: String? = nil) {
            self.quote = Array((quote ?? "Hello world").utf8)
        }

        /// Returns a new ``QuoteProtocol``.
        public override func buildProtocol(address: any Address) -> Protocol? {
            let built = QuoteProtocol(factory: self)
            built.factory = self
            return built
        }
    }

    /// Example 2-4's client protocol (also named `QuoteProtocol` in the
    /// seed): sends its factory's quote on connect and closes the connection
    /// when the answer arrives. Reactor thread only.
    public final class QuoteClientProtocol: Protocol {
        /// The factory holding the quote to send.
        public let quoteFactory: QuoteClientFactory

        /// Makes the protocol for `factory`'s connection.
        public init(factory: QuoteClientFactory) {
            self.quoteFactory = factory
        }

        /// Sends the quote.
        public override func connectionMade() {
            sendQuote()
        }

        /// Writes the factory's quote.
        public func sendQuote() {
            transport?.write(quoteFactory.quote)
        }

        /// Records the answer ("Received quote:") and closes.
        public override func dataReceived(_ data: [UInt8]) {
            quoteFactory.receivedQuote = (quoteFactory.receivedQuote ?? []) + data
            transport?.loseConnection()
        }
    }

    /// Example 2-4's `QuoteClientFactory`: one per quote sent. When its
    /// connection fails or ends it calls
    /// ``QuoteCounter/maybeStopReactor()``. Reactor thread only.
    public final class QuoteClientFactory: ClientFactory {
        /// The quote to send.
        public let quote: String

        /// The countdown shared by all the clients of one run.
        public let counter: QuoteCounter

        /// The bytes received from the server, `nil` before any arrived.
        public internal(set) var receivedQuote: [UInt8]?

        /// The reason given to `clientConnectionLost` or
        /// `clientConnectionFailed` ("conn lose:" / "conn failed :").
        public private(set) var endReason: Failure?

        /// Makes a factory sending `quote` and counting down `counter`.
        public init(quote: String, counter: QuoteCounter) {
            self.quote = quote
            self.counter = counter
        }

        /// Returns a new ``QuoteClientProtocol``.
        public override func buildProtocol(address: any Address) -> Protocol? {
            let built = QuoteClientProtocol(factory: self)
            built.factory = self
            return built
        }

        /// Records `reason` and counts this client as done.
        public override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
            end(reason)
        }

        /// Records `reason` and counts this client as done.
        public override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
            end(reason)
        }

        private func end(_ reason: Failure) {
            // A factory reports its end once, so one client cannot count
            // down twice (a lost connection after a failure, say).
            guard endReason == nil else { return }
            endReason = reason
            counter.maybeStopReactor()
        }
    }

    /// Example 2-4's global `quote_counter` and `maybeStopReactor()`: counts
    /// down the clients still running and stops the reactor when none is
    /// left. Reactor thread only.
    public final class QuoteCounter {
        /// The reactor to stop.
        public let reactor: any ReactorCore

        /// Clients not finished yet.
        public private(set) var remaining: Int

        /// The error from `reactor.stop()`, if it threw (for example
        /// ``TorsionCore/ReactorNotRunning``).
        public private(set) var stopError: Failure?

        /// Makes a countdown of `count` clients for `reactor`.
        public init(reactor: any ReactorCore, count: Int) {
            self.reactor = reactor
            self.remaining = count
        }

        /// Counts one client as done; the last one stops the reactor. Calls
        /// after that do nothing.
        public func maybeStopReactor() {
            guard remaining > 0 else { return }
            remaining -= 1
            guard remaining == 0 else { return }
            do {
                try reactor.stop()
            } catch {
                stopError = Failure(error)
            }
        }
    }
}
