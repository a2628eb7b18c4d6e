import TorsionCore

/// Moves bytes between the two ends of an in-memory connection, one step
/// at a time, deterministically: Twisted's `iosim.IOPump`.
///
/// Nothing moves until the test calls ``pump(advanceClock:)`` (one step)
/// or ``flush(advanceClock:maxSteps:)`` (steps until quiet), so a test
/// controls exactly which messages are in flight. Make one with
/// ``connectedPair(server:client:clock:greet:serverAddress:clientAddress:)``.
/// Test thread only.
public final class IOPump {
    /// The connecting end.
    public let client: FakeTransport

    /// The accepting end.
    public let server: FakeTransport

    /// When set, each step first runs the calls due now on this clock
    /// (`advance(0)`), so work a protocol deferred with `callLater(0)`
    /// happens between steps, as in a real loop turn.
    public let clock: Clock?

    /// Joins `client` and `server`. Their protocols must already be
    /// connected to them
    /// (``connectedPair(server:client:clock:greet:serverAddress:clientAddress:)`` does
    /// that).
    public init(client: FakeTransport, server: FakeTransport, clock: Clock? = nil) {
        self.client = client
        self.server = server
        self.clock = clock
    }

    /// Runs one step and returns whether anything happened. A step does
    /// the first of these that applies:
    ///
    /// 1. An aborted end loses the connection: its protocol receives
    ///    ``TorsionCore/ConnectionAborted``, the other ``TorsionCore/ConnectionLost``.
    /// 2. Bytes move: what the client had buffered goes to the server's
    ///    `dataReceived`, then what the server had buffered goes to the
    ///    client's (each at most once per step, and only to an end that is
    ///    not paused). Bytes written during this delivery wait for the
    ///    next step. Pull producers with an empty buffer are asked for
    ///    more first.
    /// 3. A half-close (``FakeTransport/loseWriteConnection()``) with an
    ///    empty buffer is delivered: the other end's protocol gets
    ///    `readConnectionLost()` and this end's `writeConnectionLost()` when
    ///    they are ``TorsionCore/HalfCloseableProtocol``s; otherwise, or when both
    ///    halves are closed, the connection closes as in 4.
    /// 4. An end that called `loseConnection()` and has an empty buffer
    ///    closes the connection: both protocols receive
    ///    ``TorsionCore/ConnectionDone``, the closing end first.
    @discardableResult
    public func pump(advanceClock: Bool = true) -> Bool {
        if advanceClock { clock?.advance(0) }
        let ends = [(client, server), (server, client)]
        if let (aborting, other) = ends.first(where: { $0.0.aborted && !$0.0.disconnected }) {
            aborting.connectionLost(reason: Failure(ConnectionAborted()))
            other.connectionLost(reason: Failure(ConnectionLost()))
            return true
        }
        client.pollPullProducer()
        server.pollPullProducer()
        let toServer = server.isReading ? client.takePendingBytes() : []
        let toClient = client.isReading ? server.takePendingBytes() : []
        if !toServer.isEmpty { server.deliver(toServer) }
        if !toClient.isEmpty { client.deliver(toClient) }
        if !toServer.isEmpty || !toClient.isEmpty { return true }
        for (closing, other) in ends where closing.writeDisconnecting && !closing.writeClosed && !closing.disconnected {
            guard closing.pendingBytes.isEmpty else { continue }
            closing.writeClosed = true
            let bothClosed = other.writeClosed
            if !bothClosed, let reader = other.protocol as? any HalfCloseableProtocol {
                reader.readConnectionLost()
                (closing.protocol as? any HalfCloseableProtocol)?.writeConnectionLost()
            } else {
                close(first: closing, then: other)
            }
            return true
        }
        for (closing, other) in ends where closing.disconnecting && !closing.disconnected {
            guard closing.pendingBytes.isEmpty else { continue }
            close(first: closing, then: other)
            return true
        }
        return false
    }

    /// Pumps until a step does nothing; returns whether anything happened.
    ///
    /// - Throws: ``IOPumpFlushLimitError`` when `maxSteps` steps all did
    ///   something (two protocols that never stop talking); Twisted's limit
    ///   is the default, 1000.
    @discardableResult
    public func flush(advanceClock: Bool = true, maxSteps: Int = 1000) throws(IOPumpFlushLimitError) -> Bool {
        var moved = false
        for _ in 0..<maxSteps {
            guard pump(advanceClock: advanceClock) else { return moved }
            moved = true
        }
        throw IOPumpFlushLimitError(maxSteps: maxSteps)
    }

    private func close(first: FakeTransport, then second: FakeTransport) {
        first.connectionLost(reason: Failure(ConnectionDone()))
        second.connectionLost(reason: Failure(ConnectionDone()))
    }
}

/// ``IOPump/flush(advanceClock:maxSteps:)`` pumped its maximum number of
/// steps and the connection was still busy.
public struct IOPumpFlushLimitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The number of steps pumped.
    public let maxSteps: Int

    /// Makes the error.
    public init(maxSteps: Int) { self.maxSteps = maxSteps }

    /// Names the limit.
    public var description: String {
        "IOPumpFlushLimitError: still busy after \(maxSteps) pump steps"
    }
}

/// Connects `server` and `client` in memory and returns them with the
/// ``IOPump`` that moves bytes between them: Twisted's
/// `iosim.connectedServerAndClient`, taking protocol instances.
///
/// The server is connected first, then the client (each `connectionMade`
/// runs), and with `greet` the pump is flushed once so that greetings
/// written in `connectionMade` have been delivered. The server's end is
/// `serverAddress` and the client's `clientAddress`; each end's peer is
/// the other's address.
///
/// ```swift
/// let (client, server, pump) = try connectedPair(server: Echo(), client: AccumulatingProtocol())
/// client.transport?.write("hello")
/// try pump.flush()
/// #expect(client.dataString == "hello")
/// ```
///
/// - Throws: ``IOPumpFlushLimitError`` when the greeting does not settle.
public func connectedPair<Server: Protocol, Client: Protocol>(
    server: Server,
    client: Client,
    clock: Clock? = nil,
    greet: Bool = true,
    serverAddress: any Address = IPv4Address(.tcp, host: "10.0.0.1", port: 12345),
    clientAddress: any Address = IPv4Address(.tcp, host: "192.168.1.1", port: 54321)
) throws(IOPumpFlushLimitError) -> (client: Client, server: Server, pump: IOPump) {
    let serverTransport = FakeTransport(protocol: server, isServer: true, host: serverAddress, peer: clientAddress)
    let clientTransport = FakeTransport(protocol: client, isServer: false, host: clientAddress, peer: serverAddress)
    server.makeConnection(serverTransport)
    client.makeConnection(clientTransport)
    let pump = IOPump(client: clientTransport, server: serverTransport, clock: clock)
    if greet { try pump.flush() }
    return (client, server, pump)
}
