import TorsionCore
import TorsionProtocols

/// The TCP echo server and client of seed 003 (*Twisted Network
/// Programming Essentials*, Example 2-1 `echoserver.py` and Example 2-2
/// `echoclient.py`).
///
/// The seed's `print` calls become recorded state, so the examples can be
/// checked without reading standard output.
public enum EchoExample {
    /// Example 2-1's `EchoFactory`: builds an echo protocol
    /// (``TorsionProtocols/Echo``) for every connection and remembers the
    /// last peer address it was given (the seed prints each one). It keeps
    /// a count rather than a list, so a long-running server does not grow.
    /// Reactor thread only.
    public final class EchoFactory: Factory {
        /// The address passed to the latest ``buildProtocol(address:)``
        /// call, `nil` before the first.
        public private(set) var lastPeerAddress: (any Address)?

        /// How many protocols were built.
        public private(set) var builtCount = 0

        /// Makes the factory.
        public override init() {}

        /// Records `address` and returns a new echo protocol.
        public override func buildProtocol(address: any Address) -> Protocol? {
            lastPeerAddress = address
            builtCount += 1
            let echo = Echo()
            echo.factory = self
            return echo
        }
    }

    /// Example 2-2's `EchoClient`: sends ``message`` once connected and
    /// closes the connection as soon as anything comes back. Reactor thread
    /// only.
    public final class EchoClient: Protocol {
        /// What the seed sends: `Hello,world!`.
        public static let defaultMessage = "Hello,world!"

        /// The bytes written in `connectionMade`.
        public let message: [UInt8]

        /// The first chunk received (the seed prints it), or `nil` before
        /// any data arrived.
        public private(set) var reply: [UInt8]?

        /// Makes a client that will send `message`.
        public init(message: String = EchoClient.defaultMessage) {
            self.message = Array(message.utf8)
        }

        /// Sends ``message``.
        public override func connectionMade() {
            transport?.write(message)
        }

        /// Keeps the first reply and closes the connection.
        public override func dataReceived(_ data: [UInt8]) {
            if reply == nil { reply = data }
            transport?.loseConnection()
        }
    }

    /// Example 2-2's `EchoClientFactory`: builds an ``EchoClient`` and stops
    /// the reactor when the connection fails or ends, which is how the
    /// seed's one-shot client exits. Reactor thread only.
    public final class EchoClientFactory: ClientFactory {
        /// The reactor stopped when the connection ends.
        public let reactor: any ReactorCore

        /// The message each client sends.
        public let message: String

        /// The client built for the connection, `nil` until it is
        /// established.
        public private(set) var client: EchoClient?

        /// The reason passed to `clientConnectionLost` or
        /// `clientConnectionFailed`, once one was called.
        public private(set) var endReason: Failure?

        /// The error from `reactor.stop()` (for example
        /// ``TorsionCore/ReactorNotRunning`` when it was stopped already).
        public private(set) var stopError: Failure?

        /// Makes a factory whose clients send `message` and which stops
        /// `reactor` when the connection is over.
        public init(reactor: any ReactorCore, message: String = EchoClient.defaultMessage) {
            self.reactor = reactor
            self.message = message
        }

        /// Returns a new ``EchoClient`` and keeps it as ``client``.
        public override func buildProtocol(address: any Address) -> Protocol? {
            let client = EchoClient(message: message)
            client.factory = self
            self.client = client
            return client
        }

        /// Records `reason` ("conn lost") and stops the reactor.
        public override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
            finish(reason)
        }

        /// Records `reason` ("conn failed") and stops the reactor.
        public override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
            finish(reason)
        }

        private func finish(_ reason: Failure) {
            endReason = reason
            do {
                try reactor.stop()
            } catch {
                stopError = Failure(error)
            }
        }
    }
}
