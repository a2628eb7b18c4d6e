import TorsionCore

/// The connector a ``MemoryReactor`` returns from `connectTCP`,
/// `connectSSL` and `connectUNIX`: Twisted's `_FakeConnector`, with the
/// state machine of a real connector so client factories can be tested
/// end to end.
///
/// It starts ``State-swift.enum/connecting`` (the reactor has already
/// called the factory's `startedConnecting`). Nothing happens until the test
/// drives it: ``completeConnection(transport:)`` builds and connects the
/// protocol, ``connectionFailed(reason:)`` fails the attempt and
/// ``connectionLost(reason:)`` ends an established connection, each telling
/// the factory as a real connector would. Test thread only.
public final class MemoryConnector: Connector {
    /// Where a connector is in its life.
    public enum State: String, Sendable, Hashable {
        /// No attempt in progress, no connection.
        case disconnected
        /// An attempt is in progress.
        case connecting
        /// A protocol is connected.
        case connected
    }

    /// The address being connected to.
    public let destination: any Address

    /// The factory told about attempts and connections.
    public let factory: ClientFactory

    /// The current state.
    public private(set) var state: State = .connecting

    /// Attempts started: 1 for the reactor's, plus one per accepted
    /// ``connect()``.
    public private(set) var attempts = 1

    /// `true` once ``stopConnecting()`` stopped an attempt (Twisted's
    /// `stoppedConnecting`).
    public private(set) var stoppedConnecting = false

    /// Number of ``disconnect()`` calls.
    public private(set) var disconnectCount = 0

    /// The protocol of the current or last connection.
    public private(set) var `protocol`: Protocol?

    /// The transport of the current or last connection.
    public private(set) var transport: StringTransport?

    /// Makes a connecting connector; ``MemoryReactor`` makes them.
    init(destination: any Address, factory: ClientFactory) {
        self.destination = destination
        self.factory = factory
    }

    // MARK: Connector

    /// Starts a new attempt when ``State-swift.enum/disconnected``: the
    /// state becomes connecting and the factory's `startedConnecting` is
    /// called. In any other state the call is ignored (a real connector
    /// refuses it).
    public func connect() {
        guard state == .disconnected else { return }
        state = .connecting
        attempts += 1
        factory.startedConnecting(self)
    }

    /// Abandons the attempt in progress: the state becomes disconnected,
    /// ``stoppedConnecting`` is set and the factory's
    /// `clientConnectionFailed` receives ``TorsionCore/ConnectingCancelledError``.
    ///
    /// - Throws: ``TorsionCore/NotConnectingError`` when not connecting.
    public func stopConnecting() throws {
        guard state == .connecting else { throw NotConnectingError() }
        stoppedConnecting = true
        state = .disconnected
        factory.clientConnectionFailed(self, reason: Failure(ConnectingCancelledError()))
    }

    /// Counts the call; stops an attempt in progress, or asks the
    /// transport of an established connection to `loseConnection()` (the
    /// connection ends when the test calls ``connectionLost(reason:)``).
    public func disconnect() {
        disconnectCount += 1
        switch state {
        case .connecting: try? stopConnecting()
        case .connected: transport?.loseConnection()
        case .disconnected: break
        }
    }

    // MARK: Driving the connector from a test

    /// Completes the attempt: builds a protocol with the factory's
    /// `buildProtocol(address:)` for ``destination`` and connects it to
    /// `transport` (by default a ``StringTransport`` whose peer is
    /// ``destination``). Returns the protocol.
    ///
    /// When the factory refuses (returns `nil`) the connection is closed at
    /// once, as by a real connector: the state returns to disconnected,
    /// the factory's `clientConnectionLost` receives ``TorsionCore/ConnectionDone``,
    /// and `nil` is returned.
    ///
    /// - Throws: ``MemoryConnectorStateError`` when not connecting.
    @discardableResult
    public func completeConnection(transport: StringTransport? = nil) throws -> Protocol? {
        try require(.connecting, for: "completeConnection")
        guard let built = factory.buildProtocol(address: destination) else {
            state = .disconnected
            factory.clientConnectionLost(self, reason: Failure(ConnectionDone()))
            return nil
        }
        let transport = transport ?? StringTransport(peer: destination)
        state = .connected
        self.protocol = built
        self.transport = transport
        built.makeConnection(transport)
        return built
    }

    /// Fails the attempt: the state becomes disconnected and the factory's
    /// `clientConnectionFailed` receives `reason` (for example
    /// ``TorsionCore/ConnectionRefused`` or ``TorsionCore/TimeoutError``).
    ///
    /// - Throws: ``MemoryConnectorStateError`` when not connecting.
    public func connectionFailed(reason: any Error) throws {
        try require(.connecting, for: "connectionFailed")
        state = .disconnected
        factory.clientConnectionFailed(self, reason: Failure(reason))
    }

    /// Ends the established connection: the protocol's `connectionLost`
    /// then the factory's `clientConnectionLost` receive `reason`, and the
    /// state becomes disconnected.
    ///
    /// - Throws: ``MemoryConnectorStateError`` when not connected.
    public func connectionLost(reason: any Error = ConnectionDone()) throws {
        try require(.connected, for: "connectionLost")
        state = .disconnected
        let failure = Failure(reason)
        `protocol`?.connectionLost(reason: failure)
        factory.clientConnectionLost(self, reason: failure)
    }

    private func require(_ expected: State, for operation: String) throws(MemoryConnectorStateError) {
        guard state == expected else {
            throw MemoryConnectorStateError(operation: operation, expected: expected, actual: state)
        }
    }
}

/// A test drove a ``MemoryConnector`` in a state where the event cannot
/// happen, for example ``MemoryConnector/connectionLost(reason:)`` before
/// ``MemoryConnector/completeConnection(transport:)``.
public struct MemoryConnectorStateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The driving method that was called.
    public let operation: String
    /// The state it needs.
    public let expected: MemoryConnector.State
    /// The state the connector was in.
    public let actual: MemoryConnector.State

    /// Makes the error.
    public init(operation: String, expected: MemoryConnector.State, actual: MemoryConnector.State) {
        self.operation = operation
        self.expected = expected
        self.actual = actual
    }

    /// Names the call and both states.
    public var description: String {
        "MemoryConnectorStateError: \(operation) needs a \(expected.rawValue) connector, but it is \(actual.rawValue)"
    }
}
