import Testing
import Torsion
import TorsionTool

/// A client protocol driven by a script: bytes to send once connected,
/// then steps that each wait for some text to arrive (after what earlier
/// steps matched) and act. Reactor thread only.
final class ScriptedClient: Protocol {
    /// Everything received, in order.
    private(set) var received: [UInt8] = []
    /// Why the connection ended, once it has.
    private(set) var lostReason: Failure?
    /// Written in `connectionMade`.
    var greeting: String
    /// Runs after `connectionLost`.
    var onLost: (ScriptedClient) -> Void = { _ in }
    private var steps: [(text: [UInt8], action: (ScriptedClient) -> Void)] = []
    private var matchedUpTo = 0

    init(sending greeting: String = "") {
        self.greeting = greeting
    }

    /// Everything received, as UTF-8 text.
    var text: String { String(decoding: received, as: UTF8.self) }

    /// Adds a step: once `text` has arrived, run `action`.
    func expect(_ text: String, then action: @escaping (ScriptedClient) -> Void = { _ in }) {
        steps.append((Array(text.utf8), action))
    }

    /// Writes `text`.
    func send(_ text: String) {
        transport?.write(Array(text.utf8))
    }

    override func connectionMade() {
        if !greeting.isEmpty { send(greeting) }
    }

    override func dataReceived(_ data: [UInt8]) {
        received += data
        while let step = steps.first, let range = received[matchedUpTo...].firstRange(of: step.text) {
            steps.removeFirst()
            matchedUpTo = range.upperBound
            step.action(self)
        }
    }

    override func connectionLost(reason: Failure) {
        lostReason = reason
        onLost(self)
    }

    /// Steps whose text never arrived.
    var pendingSteps: [String] { steps.map { String(decoding: $0.text, as: UTF8.self) } }
}

/// Builds the given clients in order, one per connection, and records a
/// failed attempt as a test failure that stops the reactor.
final class ScriptedClientFactory: ClientFactory {
    private var clients: [ScriptedClient]
    private let reactor: any ReactorCore

    init(_ clients: [ScriptedClient], reactor: any ReactorCore) {
        self.clients = clients
        self.reactor = reactor
    }

    override func buildProtocol(address: any Address) -> Protocol? {
        guard !clients.isEmpty else { return nil }
        let client = clients.removeFirst()
        client.factory = self
        return client
    }

    override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        Issue.record("connection failed: \(reason)")
        try? reactor.stop()
    }
}

/// Connects `client` over TCP to the IPv4 or IPv6 `port`.
func connect(_ client: ScriptedClient, to port: any ListeningPort, on reactor: any ServerReactor) {
    let factory = ScriptedClientFactory([client], reactor: reactor)
    switch port.host {
    case let address as IPv4Address: reactor.connectTCP(host: address.host, port: address.port, factory: factory)
    case let address as IPv6Address: reactor.connectTCP(host: address.host, port: address.port, factory: factory)
    case let address as UNIXAddress: reactor.connectUNIX(address.name ?? "", factory: factory)
    default: Issue.record("cannot connect to \(port.host)")
    }
}

/// The port number of a TCP listening port.
func portNumber(_ port: any ListeningPort) -> Int? {
    switch port.host {
    case let address as IPv4Address: address.port
    case let address as IPv6Address: address.port
    default: nil
    }
}
