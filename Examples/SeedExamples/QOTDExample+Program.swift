import TorsionProtocols

extension QOTDExample: SeedServerExample {
    /// The port of seed 000's servers.
    public static let defaultPort = 8007

    /// The first QOTD server's factory, sending the default quote
    /// (`makeQOTDFactory()`); the configurable server passes its own.
    public static func makeServerFactory() -> QOTDFactory { makeQOTDFactory() }
}
