import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Connectors: connect, disconnect, reconnect, stopConnecting, refused; TCP and UNIX on every backend")
struct StreamConnectorTests {
    @Test(
        "connect() again from clientConnectionLost reconnects; disconnect() closes an established connection",
        arguments: Backend.available, StreamFamily.allCases)
    func reconnect(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            var serverConnections = 0
            var clientConnections = 0
            // Both ends of both connections: the client closes, so the
            // server may hear of it after the client does.
            let allLost = Countdown(4) { scenario.finish() }
            scenario.server.configure = { proto in
                proto.onMade = { proto in
                    serverConnections += 1
                    proto.transport?.write(Array("hi".utf8))
                }
                proto.onLost = { _, _ in allLost.tick() }
            }
            scenario.client.configure = { proto in
                proto.onMade = { _ in clientConnections += 1 }
                // The server answers, then the client's connector closes it.
                proto.onData = { _, _ in scenario.connector?.disconnect() }
            }
            scenario.client.onLost = { connector, _ in
                if scenario.client.losses.count < 2 { connector.connect() }
                allLost.tick()
            }
            try scenario.run()
            #expect(clientConnections == 2)
            #expect(serverConnections == 2)
            #expect(scenario.client.startedCount == 2)
            #expect(scenario.client.losses.count == 2)
            #expect(scenario.client.losses.allSatisfy { isDone($0) }, "\(scenario.client.losses)")
            #expect(scenario.client.failures.isEmpty)
        }
    }

    @Test(
        "stopConnecting abandons an attempt: ConnectingCancelledError once, then NotConnectingError",
        arguments: Backend.available, StreamFamily.allCases)
    func stopConnecting(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            // A listener that never accepts: the attempt cannot complete
            // on the server's side, whatever the kernel does.
            let listener = try family.silentListener()
            defer { close(listener.descriptor) }
            let client = RecordingClientFactory()
            var built = 0
            var secondStop: (any Error)?
            client.configure = { _ in built += 1 }
            client.onFailed = { connector, _ in
                do { try connector.stopConnecting() } catch { secondStop = error }
                // A turn later, to see that nothing else arrives.
                reactor.callLater(0) { try? reactor.stop() }
            }
            reactor.callWhenRunning {
                do {
                    let connector = try family.connect(reactor, to: listener.address, client)
                    try connector.stopConnecting()
                } catch {
                    Issue.record(error)
                    try? reactor.stop()
                }
            }
            try reactor.run()
            client.dropHooks()
            #expect(client.failures.count == 1)
            #expect(client.failures.first?.error is ConnectingCancelledError, "\(client.failures)")
            #expect(secondStop is NotConnectingError)
            #expect(built == 0)
            #expect(client.losses.isEmpty)
        }
    }

    @Test(
        "connecting where nobody listens fails with ConnectionRefused; connect() from clientConnectionFailed retries",
        arguments: Backend.available, StreamFamily.allCases)
    func connectionRefused(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let refusing = try family.refusingAddress()
            defer { if refusing.descriptor >= 0 { close(refusing.descriptor) } }
            let client = RecordingClientFactory()
            client.onFailed = { connector, _ in
                if client.failures.count < 2 {
                    connector.connect()
                } else {
                    try? reactor.stop()
                }
            }
            reactor.callWhenRunning {
                do {
                    try family.connect(reactor, to: refusing.address, client)
                } catch {
                    Issue.record(error)
                    try? reactor.stop()
                }
            }
            try reactor.run()
            client.dropHooks()
            #expect(client.failures.count == 2)
            #expect(client.failures.allSatisfy { $0.error is ConnectionRefused }, "\(client.failures)")
            #expect(client.startedCount == 2)
            #expect(client.losses.isEmpty)
        }
    }
}
