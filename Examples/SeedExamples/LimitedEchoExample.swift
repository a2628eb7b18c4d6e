import TorsionCore

/// The connection-counting echo server of seed 000 ("Writing Servers"):
/// `Echo` counts live connections in its factory and turns away those above
/// the limit with `Too many connections, try later`.
public enum LimitedEchoExample {
    /// The message sent, without line ending as in the seed, to a
    /// connection above the limit before it is closed.
    public static let tooManyConnections = "Too many connections, try later"

    /// The seed's `Echo`: increments ``EchoFactory/numProtocols`` in
    /// `connectionMade` and decrements it in `connectionLost`, so the count
    /// is the number of live connections, refused ones included until they
    /// are gone. Reactor thread only.
    public final class Echo: Protocol {
        private var counted = false

        /// Makes the protocol; it must be built by an ``EchoFactory``.
        public override init() {}

        /// Counts the connection; above the limit, writes
        /// ``LimitedEchoExample/tooManyConnections`` and closes.
        public override func connectionMade() {
            guard let factory = factory as? EchoFactory else { return }
            counted = true
            factory.numProtocols += 1
            if factory.numProtocols > factory.maxProtocols {
                transport?.write(tooManyConnections)
                transport?.loseConnection()
            }
        }

        /// Uncounts the connection (once, and only if it was counted).
        public override func connectionLost(reason: Failure) {
            if counted, let factory = factory as? EchoFactory {
                counted = false
                factory.numProtocols -= 1
            }
            super.connectionLost(reason: reason)
        }

        /// Echoes `data`, unless the connection is being refused.
        public override func dataReceived(_ data: [UInt8]) {
            guard transport?.disconnecting != true else { return }
            transport?.write(data)
        }
    }

    /// Builds ``Echo`` protocols and holds their live-connection count.
    /// Reactor thread only.
    public final class EchoFactory: Factory {
        /// Connections currently open (accepted or being refused).
        public internal(set) var numProtocols = 0

        /// The most connections served at once; the seed uses 100.
        public let maxProtocols: Int

        /// Makes a factory serving at most `maxProtocols` connections at
        /// once.
        public init(maxProtocols: Int = 100) {
            self.maxProtocols = maxProtocols
            super.init()
            makeProtocol = { Echo() }
        }
    }
}
