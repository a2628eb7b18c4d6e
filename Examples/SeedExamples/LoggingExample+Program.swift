import TorsionCore

extension LoggingExample {
    /// The port of seed 000's servers.
    public static let defaultPort = 8007

    /// The log file used when none is named, in the current directory.
    public static let defaultFileName = "logging-server.log"

    /// Serves ``LoggingProtocol`` on `port` of `interface` (`""`: every
    /// IPv4 interface), appending each received line to `fileName`. The
    /// port starts the factory, which opens the file; stopping the port
    /// stops the factory, which closes it. Returns the listening port.
    /// Reactor thread only.
    ///
    /// - Throws: ``TorsionCore/CannotListenError`` when the port cannot be
    ///   bound; the factory's ``LogFileError`` when the file cannot be
    ///   opened (the port is stopped again then).
    public static func runServer(
        reactor: any ReactorTCP, port: Int = defaultPort, interface: String = "",
        fileName: String = defaultFileName
    ) throws -> any ListeningPort {
        try runServer(reactor: reactor, port: port, interface: interface, factory: LogfileFactory(fileName: fileName))
    }

    /// Serves ``LoggingProtocol`` with `factory` on `port` of `interface`.
    /// Returns the listening port. Reactor thread only.
    ///
    /// - Throws: ``TorsionCore/CannotListenError`` when the port cannot be
    ///   bound; the factory's error when its log cannot be opened (the port
    ///   is stopped again then, so nothing listens without a log).
    public static func runServer(
        reactor: any ReactorTCP, port: Int, interface: String, factory: LogfileFactory
    ) throws -> any ListeningPort {
        let listening = try reactor.listenTCP(port, factory: factory, interface: interface)
        if factory.fp == nil, let error = factory.lastError {
            listening.stopListening()
            throw error.error
        }
        return listening
    }
}
