import TorsionCore

/// A seed example with a server program: the port the seed listens on and
/// the factory it listens with, so that every server starts the same way
/// (the seed's `reactor.listenTCP(PORT, FACTORY)`) through
/// ``runServer(reactor:port:interface:factory:)``.
public protocol SeedServerExample {
    /// The factory type the server listens with.
    associatedtype ServerFactory: Factory

    /// The port the seed's server listens on.
    static var defaultPort: Int { get }

    /// A factory configured as in the seed.
    static func makeServerFactory() -> ServerFactory
}

extension SeedServerExample {
    /// Listens on `port` of `interface` (`""`: every IPv4 interface, as
    /// the seed does) with `factory`, the seed's own when `nil`. Returns
    /// the listening port, whose `host` holds the real port when `port` is
    /// 0. Reactor thread only.
    ///
    /// - Throws: ``TorsionCore/CannotListenError`` when the port cannot be
    ///   bound.
    public static func runServer(
        reactor: any ReactorTCP, port: Int? = nil, interface: String = "", factory: ServerFactory? = nil
    ) throws -> any ListeningPort {
        try reactor.listenTCP(port ?? defaultPort, factory: factory ?? makeServerFactory(), interface: interface)
    }
}
