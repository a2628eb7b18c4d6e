import TorsionCore

extension EchoExample: SeedServerExample {
    /// The port of Examples 2-1 and 2-2.
    public static let defaultPort = 8001

    /// Example 2-1's `EchoFactory()`.
    public static func makeServerFactory() -> EchoFactory { EchoFactory() }

    /// Example 2-2's `reactor.connectTCP("127.0.0.1", 8001,
    /// EchoClientFactory())`: connects a client that sends `message`,
    /// closes on the first reply and stops `reactor` when the connection
    /// ends or fails. Returns the factory, which records the reply and the
    /// end. Reactor thread only.
    public static func runClient(
        reactor: any ReactorTCP & ReactorCore, host: String = "127.0.0.1", port: Int = defaultPort,
        message: String = EchoClient.defaultMessage
    ) -> EchoClientFactory {
        let factory = EchoClientFactory(reactor: reactor, message: message)
        reactor.connectTCP(host: host, port: port, factory: factory)
        return factory
    }

    /// What the seed's client prints, from what `factory` recorded:
    /// `receive msg: REPLY` once a reply came, then `conn lost: REASON` or
    /// `conn failed: REASON`.
    public static func clientReport(_ factory: EchoClientFactory) -> [String] {
        var lines: [String] = []
        if let reply = factory.client?.reply {
            lines.append("receive msg: \(String(decoding: reply, as: UTF8.self))")
        }
        if let reason = factory.endReason {
            lines.append(endReport(reason, lost: "conn lost"))
        }
        return lines
    }
}

/// `LOST: REASON` when `reason` ended an established connection (a
/// ``TorsionCore/ConnectionClosed`` error), else `conn failed: REASON`: the
/// seed clients' last line.
func endReport(_ reason: Failure, lost: String) -> String {
    let event = reason.error is any ConnectionClosed ? lost : "conn failed"
    return "\(event): \(reason.errorMessage)"
}
