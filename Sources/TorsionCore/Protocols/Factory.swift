/// Makes a ``Protocol`` for each new connection and holds state shared by
/// them: Twisted's `Factory`.
///
/// Subclass and override ``buildProtocol(address:)``, or use
/// ``forProtocol(_:)``. A factory used by several listening ports is
/// started once and stopped once: ports call ``doStart()`` and
/// ``doStop()``, which reference-count and call ``startFactory()`` /
/// ``stopFactory()``. Reactor thread only.
open class Factory {
    /// Makes a new protocol; used by the default ``buildProtocol(address:)``.
    public var makeProtocol: (() -> Protocol)?

    /// Number of ports (or connectors) using this factory.
    public private(set) var numPorts = 0

    /// Makes a factory; override ``buildProtocol(address:)`` or set
    /// ``makeProtocol``.
    public init() {}

    /// A factory whose protocols come from `makeProtocol`, like Twisted's
    /// `Factory.forProtocol(Echo)`: `Factory.forProtocol(Echo.init)`.
    public static func forProtocol(_ makeProtocol: @escaping () -> Protocol) -> Factory {
        let factory = Factory()
        factory.makeProtocol = makeProtocol
        return factory
    }

    /// Returns the protocol for a connection from `address`, or `nil` to
    /// refuse it (the connection is closed at once). The default makes one
    /// with ``makeProtocol`` and sets its ``Protocol/factory``.
    open func buildProtocol(address: any Address) -> Protocol? {
        guard let makeProtocol else { return nil }
        let built = makeProtocol()
        built.factory = self
        return built
    }

    /// Called by a port starting to use this factory; the first call runs
    /// ``startFactory()``.
    public func doStart() {
        if numPorts == 0 { startFactory() }
        numPorts += 1
    }

    /// Called by a port that stopped using this factory; the call that
    /// releases the last port runs ``stopFactory()``. Extra calls are ignored.
    public func doStop() {
        guard numPorts > 0 else { return }
        numPorts -= 1
        if numPorts == 0 { stopFactory() }
    }

    /// Acquire shared resources (open a database, load data). Runs once
    /// before the first port uses the factory.
    open func startFactory() {}

    /// Release what ``startFactory()`` acquired. Runs once after the last
    /// port stopped.
    open func stopFactory() {}
}

/// A factory for outgoing connections: Twisted's `ClientFactory`, told how
/// each attempt went.
open class ClientFactory: Factory {
    /// A connection attempt is starting on `connector`.
    open func startedConnecting(_ connector: any Connector) {}

    /// The attempt failed (refused, timed out, DNS failure…). Call
    /// `connector.connect()` to try again.
    open func clientConnectionFailed(_ connector: any Connector, reason: Failure) {}

    /// An established connection ended. Call `connector.connect()` to
    /// reconnect.
    open func clientConnectionLost(_ connector: any Connector, reason: Failure) {}
}

/// A connection in progress or established, created by `connectTCP`,
/// `connectUNIX` or `connectSSL`: Twisted's `IConnector`. Reactor thread only.
public protocol Connector: AnyObject {
    /// Abandons an attempt in progress; the factory's
    /// ``ClientFactory/clientConnectionFailed(_:reason:)`` receives
    /// ``ConnectingCancelledError``.
    ///
    /// - Throws: ``NotConnectingError`` when not connecting.
    func stopConnecting() throws

    /// Closes the connection if established, or stops the attempt.
    func disconnect()

    /// Starts a new attempt, typically from
    /// ``ClientFactory/clientConnectionLost(_:reason:)`` to reconnect.
    func connect()

    /// The address being connected to.
    var destination: any Address { get }
}

/// A port accepting connections, returned by `listenTCP`/`listenUNIX`:
/// Twisted's `IListeningPort`. Reactor thread only.
public protocol ListeningPort: AnyObject {
    /// Starts accepting again after ``stopListening()``.
    func startListening() throws

    /// Stops accepting and closes the socket; the Deferred fires once the
    /// factory has been stopped. Established connections are not affected.
    @discardableResult
    func stopListening() -> Deferred<Void>

    /// The bound address; with port 0, the port the system chose.
    var host: any Address { get }
}
