import Testing
import TorsionCore
import TorsionTesting

/// The peer address handed to `buildProtocol` in these tests.
let clientAddress = IPv4Address(.tcp, host: "127.0.0.1", port: 54321)

/// Builds a protocol with `factory` and connects it to a new
/// ``StringTransportWithDisconnection``, so that `loseConnection()` runs its
/// `connectionLost` at once.
func connect<Built: Protocol>(
    _ factory: Factory, as type: Built.Type = Built.self
) throws -> (protocol: Built, transport: StringTransportWithDisconnection) {
    let built = try #require(factory.buildProtocol(address: clientAddress) as? Built)
    let transport = StringTransportWithDisconnection(protocol: built)
    built.makeConnection(transport)
    return (built, transport)
}

/// Builds a server protocol with `factory`, asserting its type.
func build<Built: Protocol>(_ factory: Factory, as type: Built.Type = Built.self) throws -> Built {
    try #require(factory.buildProtocol(address: clientAddress) as? Built)
}

extension Protocol {
    /// Feeds `text`'s UTF-8 bytes to `dataReceived`.
    func receive(_ text: String) { dataReceived(Array(text.utf8)) }
}
