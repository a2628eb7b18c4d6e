extension LimitedEchoExample: SeedServerExample {
    /// The port of seed 000's servers.
    public static let defaultPort = 8007

    /// A factory serving at most 100 connections at once, as in the seed.
    public static func makeServerFactory() -> EchoFactory { EchoFactory() }
}
