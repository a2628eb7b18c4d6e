import TorsionCore

/// The TCP broadcast system of seed 002 ("Twisted 综述"): the `Spreader`
/// server relays what each client sends to every other client, and its
/// client (the seed's `Echo` with `EchoClientFactory`) answers every
/// message with a hello, five seconds later, through `callLater`.
public enum SpreaderExample {
    /// The seed's `Spreader`. It registers itself with its factory in
    /// `connectionMade`, greets the client with its number, relays received
    /// data to every other registered client, and closes when the data is
    /// `close` (optionally followed by a line ending, as typed into `nc`).
    /// Reactor thread only.
    public final class Spreader: Protocol {
        /// The factory holding the shared client list.
        public let spreadFactory: SpreadFactory

        /// The random 8-character id the seed logs the client by.
        public let clientID: String

        /// Makes the protocol for one connection of `factory`.
        public init(factory: SpreadFactory, clientID: String) {
            self.spreadFactory = factory
            self.clientID = clientID
        }

        /// Counts and registers the client, then writes the welcome line
        /// (``SpreadFactory/welcome(number:)``).
        public override func connectionMade() {
            spreadFactory.numProtocols += 1
            transport?.write(SpreadFactory.welcome(number: spreadFactory.numProtocols))
            spreadFactory.clients.append(self)
        }

        /// Unregisters the client.
        public override func connectionLost(reason: Failure) {
            spreadFactory.clients.removeAll { $0 === self }
            super.connectionLost(reason: reason)
        }

        /// Closes on `close`; otherwise writes `data` to every other client.
        public override func dataReceived(_ data: [UInt8]) {
            if Self.isClose(data) {
                transport?.loseConnection()
                return
            }
            for client in spreadFactory.clients where client !== self {
                client.transport?.write(data)
            }
        }

        private static func isClose(_ data: [UInt8]) -> Bool {
            let command = Array("close".utf8)
            return data == command || data == command + [0x0A] || data == command + [0x0D, 0x0A]
        }
    }

    /// The seed's `SpreadFactory`: the list of connected clients (a global
    /// in the seed) and the number of clients ever connected. Protocols and
    /// factory refer to each other until a connection is lost. Reactor
    /// thread only.
    public final class SpreadFactory: Factory {
        /// Clients connected so far, never decremented (as in the seed):
        /// it numbers the clients in their welcome line.
        public internal(set) var numProtocols = 0

        /// The clients connected now, in connection order.
        public internal(set) var clients: [Spreader] = []

        private let makeClientID: () -> String

        /// Makes a factory; `makeClientID` names each client (by default 8
        /// random lowercase letters and digits, as in the seed).
        public init(makeClientID: @escaping () -> String = SpreadFactory.randomClientID) {
            self.makeClientID = makeClientID
        }

        /// Returns a new ``Spreader``.
        public override func buildProtocol(address: any Address) -> Protocol? {
            let spreader = Spreader(factory: self, clientID: makeClientID())
            spreader.factory = self
            return spreader
        }

        /// The welcome line sent to the `number`th client, `\n`-terminated
        /// as in the seed.
        public static func welcome(number: Int) -> String {
            "Welcome to Torsion World, you are client number \(number)!\n"
        }

        /// Eight random characters from `a`–`z` and `0`–`9`.
        public static func randomClientID() -> String {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
            return String((0..<8).map { _ in alphabet.randomElement()! })
        }
    }

    /// The seed's client `Echo`: each time a message arrives it schedules
    /// ``sayHello()`` ``interval`` seconds later on the reactor's clock. The
    /// calls still pending when the connection is lost are cancelled, so a
    /// closed client leaves nothing scheduled. Reactor thread only.
    public final class Echo: Protocol {
        /// The name the client introduces itself with (the seed's
        /// `sys.argv[1]`).
        public let name: String

        /// The delay before each hello; the seed uses 5 seconds.
        public let interval: Double

        /// The clock `callLater` runs on.
        public let reactor: any ReactorTime

        /// The latest chunk received (the seed prints each one), `nil`
        /// before any arrived.
        public private(set) var lastMessage: [UInt8]?

        /// How many chunks were received.
        public private(set) var messageCount = 0

        private var pendingHellos: [DelayedCall] = []

        /// Makes a client named `name` saying hello `interval` seconds after
        /// each message, on `reactor`'s clock.
        public init(name: String, reactor: any ReactorTime, interval: Double = 5) {
            self.name = name
            self.reactor = reactor
            self.interval = interval
        }

        /// Reports the connection ("Connected to the server!").
        public override func connectionMade() {
            report("Connected to the server!")
        }

        /// Records and reports `data`, and schedules a hello.
        public override func dataReceived(_ data: [UInt8]) {
            report("got messages: \(String(decoding: data, as: UTF8.self))")
            lastMessage = data
            messageCount += 1
            pendingHellos.removeAll { !$0.isActive }
            pendingHellos.append(reactor.callLater(interval) { [weak self] in self?.sayHello() })
        }

        /// Cancels the hellos not yet said and reports the disconnection.
        public override func connectionLost(reason: Failure) {
            for call in pendingHellos where call.isActive { try? call.cancel() }
            pendingHellos.removeAll()
            report("Disconnected from the server!")
            super.connectionLost(reason: reason)
        }

        /// Writes `hello, I'm NAME at SECONDS` (the reactor's time, where
        /// the seed writes the wall-clock date) while connected.
        public func sayHello() {
            guard connected else { return }
            transport?.write("hello, I'm \(name) at \(reactor.seconds())")
        }

        private func report(_ line: String) {
            (factory as? EchoClientFactory)?.report?(line)
        }
    }

    /// The seed's `EchoClientFactory`: builds one ``Echo`` and records the
    /// connection events the seed prints. Reactor thread only.
    public final class EchoClientFactory: ClientFactory {
        /// The name given to the client.
        public let name: String

        /// The clock given to the client.
        public let reactor: any ReactorTime

        /// The delay before each of the client's hellos; the seed uses 5
        /// seconds.
        public let interval: Double

        /// Receives each line the seed's client prints (`started to
        /// connect.`, `Connected to the server!`, `got messages: DATA`,
        /// `Disconnected from the server!`, `Lost connection. Reason:
        /// REASON`, `Connection failed. Reason: REASON`); `nil` keeps the
        /// client quiet.
        public var report: ((String) -> Void)?

        /// The last client built (the seed's `self.protocol`).
        public private(set) var client: Echo?

        /// How many times `startedConnecting` was called.
        public private(set) var connectionAttempts = 0

        /// The reason from `clientConnectionLost` or
        /// `clientConnectionFailed`, once one was called.
        public private(set) var endReason: Failure?

        /// Makes a factory for a client named `name` on `reactor`'s clock,
        /// saying hello `interval` seconds after each message.
        public init(name: String, reactor: any ReactorTime, interval: Double = 5) {
            self.name = name
            self.reactor = reactor
            self.interval = interval
        }

        /// Counts the attempt ("started to connect.").
        public override func startedConnecting(_ connector: any Connector) {
            connectionAttempts += 1
            report?("started to connect.")
        }

        /// Builds and remembers an ``Echo``.
        public override func buildProtocol(address: any Address) -> Protocol? {
            let echo = Echo(name: name, reactor: reactor, interval: interval)
            echo.factory = self
            client = echo
            return echo
        }

        /// Records `reason` ("Lost connection.").
        public override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
            endReason = reason
            report?("Lost connection. Reason: \(reason.errorMessage)")
        }

        /// Records `reason` ("Connection failed.").
        public override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
            endReason = reason
            report?("Connection failed. Reason: \(reason.errorMessage)")
        }
    }
}
