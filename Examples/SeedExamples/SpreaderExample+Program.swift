import TorsionCore

extension SpreaderExample: SeedServerExample {
    /// The port of the seed's server and client.
    public static let defaultPort = 8006

    /// The seed's `SpreadFactory()`, naming clients with random ids.
    public static func makeServerFactory() -> SpreadFactory { SpreadFactory() }

    /// The seed's client, `python client.py NAME`: connects a client named
    /// `name` that answers each message with a hello `interval` seconds
    /// later, handing each line the seed prints to `report`. The client
    /// runs until the reactor stops, as in the seed. Returns the factory.
    /// Reactor thread only.
    public static func runClient(
        reactor: any ReactorTCP & ReactorTime, name: String, host: String = "127.0.0.1",
        port: Int = defaultPort, interval: Double = 5, report: ((String) -> Void)? = nil
    ) -> EchoClientFactory {
        let factory = EchoClientFactory(name: name, reactor: reactor, interval: interval)
        factory.report = report
        reactor.connectTCP(host: host, port: port, factory: factory)
        return factory
    }
}
