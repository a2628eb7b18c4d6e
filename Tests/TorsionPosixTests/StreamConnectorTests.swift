import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// A loopback listener whose accept queue is full, so the kernel drops
/// further SYNs and a new connection attempt stays pending until given up:
/// backlog 0 queues one connection, which ``filler`` holds. Nothing is
/// ever accepted, so the attempt cannot complete however long the test
/// takes.
private struct SaturatedListener {
    let listener: Int32
    let filler: Int32
    let port: Int

    init() throws {
        let loopback = try LoopbackListener(backlog: 0)
        listener = loopback.descriptor
        port = loopback.port
        filler = try rawClient(to: loopback.address)
        var entry = pollfd(fd: filler, events: Int16(POLLOUT), revents: 0)
        guard poll(&entry, 1, 5000) == 1 else { throw SystemError(errno: ETIMEDOUT, call: "poll") }
    }

    func close() {
        Glibc.close(filler)
        Glibc.close(listener)
    }
}

/// Kinds of the failures a factory heard, for comparison.
private func failureKinds(_ factory: RecordingClientFactory) -> [String] {
    factory.failures.map { failure in
        switch failure.error {
        case is ConnectionRefused: "refused"
        case is TimeoutError: "timeout"
        case is ConnectingCancelledError: "cancelled"
        case is DNSLookupError: "dns"
        case is ConnectError: "connect"
        default: "other: \(failure.errorMessage)"
        }
    }
}

/// Turns the loop until `factory` heard a failure or a connection was built.
private func turnUntilSettled(_ reactor: Reactor, _ factory: RecordingClientFactory) throws {
    try turn(reactor) { !factory.failures.isEmpty || factory.events.contains("build") }
}

@Suite("Connectors: connectTCP and connectUNIX attempts on every backend")
struct StreamConnectorTests {
    @Test("a refused TCP attempt reports ConnectionRefused after startedConnecting", arguments: Backend.available)
    func refusedTCP(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let refusing = try RefusingPort()
        defer { close(refusing.descriptor) }
        let factory = RecordingClientFactory()
        let connector = reactor.connectTCP(host: "127.0.0.1", port: refusing.port, factory: factory)
        #expect(factory.events == ["start", "startedConnecting"])
        #expect((connector.destination as? IPv4Address) == IPv4Address(host: "127.0.0.1", port: refusing.port))
        try turnUntilSettled(reactor, factory)
        #expect(factory.events == ["start", "startedConnecting", "failed", "stop"])
        #expect(failureKinds(factory) == ["refused"])
        #expect(throws: NotConnectingError.self) { try connector.stopConnecting() }
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a UNIX socket nobody accepts on is refused; a missing path is a ConnectError", arguments: Backend.available)
    func refusedUNIX(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = RecordingClientFactory()
        reactor.connectUNIX("\0" + uniqueSocketPath("nobody"), factory: factory)
        reactor.connectUNIX(uniqueSocketPath("missing"), factory: factory)
        try turn(reactor) { factory.failures.count == 2 }
        #expect(failureKinds(factory) == ["refused", "connect"])
        #expect(factory.failures.last?.errorMessage.contains(String(cString: strerror(ENOENT))) == true)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("an attempt that does not complete in time fails with TimeoutError", arguments: Backend.available)
    func timeout(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let saturated = try SaturatedListener()
        defer { saturated.close() }
        let factory = RecordingClientFactory()
        reactor.connectTCP(host: "127.0.0.1", port: saturated.port, factory: factory, timeout: 0.05)
        try turnUntilSettled(reactor, factory)
        #expect(failureKinds(factory) == ["timeout"])
        #expect((factory.failures.first?.error as? TimeoutError)?.seconds == 0.05)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "stopConnecting fails the attempt with ConnectingCancelledError at once; NotConnectingError afterwards",
        arguments: Backend.available)
    func stopConnecting(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let saturated = try SaturatedListener()
        defer { saturated.close() }
        let factory = RecordingClientFactory()
        let connector = reactor.connectTCP(host: "127.0.0.1", port: saturated.port, factory: factory)
        // Once the connect(2) is in progress, not only before it starts.
        reactor.iterate(delay: 0)
        #expect((connector as? StreamConnector)?.stateName == "connecting")
        try connector.stopConnecting()
        #expect(failureKinds(factory) == ["cancelled"])
        #expect(factory.events == ["start", "startedConnecting", "failed", "stop"])
        #expect(throws: NotConnectingError.self) { try connector.stopConnecting() }
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("disconnect while connecting stops the attempt, even from startedConnecting", arguments: Backend.available)
    func disconnectWhileConnecting(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = RecordingClientFactory()
        factory.onStartedConnecting = { $0.disconnect() }
        let connector = reactor.connectTCP(host: "127.0.0.1", port: 1, factory: factory)
        #expect(failureKinds(factory) == ["cancelled"])
        connector.disconnect()
        #expect(factory.failures.count == 1)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a name that cannot be resolved fails with DNSLookupError", arguments: Backend.available)
    func dnsFailure(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = RecordingClientFactory()
        factory.onFailed = { _, _ in try? reactor.stop() }
        var connector: (any Connector)?
        // Names are resolved on the thread pool, which runs with the reactor.
        reactor.callWhenRunning { connector = reactor.connectTCP(host: "", port: 80, factory: factory) }
        try runWithWatchdog(reactor)
        #expect(failureKinds(factory) == ["dns"])
        #expect((connector?.destination as? IPv4Address)?.host == "")
        expectNoTransportLeaks(reactor)
    }

    @Test("stopConnecting while the name is being resolved abandons the resolution", arguments: Backend.available)
    func stopWhileResolving(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = RecordingClientFactory()
        reactor.callWhenRunning {
            let connector = reactor.connectTCP(host: "localhost", port: 1, factory: factory)
            // The attempt starts (asking for the name) on the next turn.
            reactor.callLater(0) {
                try? connector.stopConnecting()
                try? reactor.stop()
            }
        }
        try runWithWatchdog(reactor)
        #expect(failureKinds(factory) == ["cancelled"])
        #expect(factory.events == ["start", "startedConnecting", "failed", "stop"])
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "connect() from clientConnectionFailed tries again without restarting the factory", arguments: Backend.available
    )
    func retryAfterFailure(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let refusing = try RefusingPort()
        defer { close(refusing.descriptor) }
        let factory = RecordingClientFactory()
        factory.onFailed = { connector, _ in
            if factory.failures.count < 3 { connector.connect() }
        }
        reactor.connectTCP(host: "127.0.0.1", port: refusing.port, factory: factory)
        try turn(reactor) { factory.failures.count == 3 }
        #expect(
            factory.events == [
                "start", "startedConnecting", "failed", "startedConnecting", "failed", "startedConnecting", "failed",
                "stop",
            ])
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a bind address already in use fails the attempt with ConnectError", arguments: Backend.available)
    func bindAddressInUse(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let listener = try LoopbackListener()
        defer { close(listener.descriptor) }
        let factory = RecordingClientFactory()
        reactor.connectTCP(
            host: "127.0.0.1", port: listener.port, factory: factory,
            bindAddress: BindAddress(host: "127.0.0.1", port: listener.port))
        try turnUntilSettled(reactor, factory)
        #expect(failureKinds(factory) == ["connect"])
        #expect(factory.failures.first?.errorMessage.contains("couldn't bind") == true)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("the reactor's shutdown fails an attempt in progress", arguments: Backend.available)
    func shutdownDuringAttempt(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let saturated = try SaturatedListener()
        defer { saturated.close() }
        let factory = RecordingClientFactory()
        reactor.callWhenRunning {
            reactor.connectTCP(host: "127.0.0.1", port: saturated.port, factory: factory)
            // Stop once the attempt is under way.
            reactor.callLater(0) { reactor.callLater(0) { try? reactor.stop() } }
        }
        try runWithWatchdog(reactor)
        #expect(failureKinds(factory) == ["connect"])
        #expect(factory.events.last == "stop")
        expectNoTransportLeaks(reactor)
    }
}
