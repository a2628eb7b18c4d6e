import TorsionCore

extension AnswerExample: SeedServerExample {
    /// The port of seed 000's servers.
    public static let defaultPort = 8007

    /// A factory building an ``Answer`` for each connection (the seed's
    /// `factory.protocol = Answer`).
    public static func makeServerFactory() -> Factory {
        Factory.forProtocol { Answer() }
    }
}
