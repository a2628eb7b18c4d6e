import ArgumentParser
import Testing
import Torsion
import TorsionTesting
import TorsionTool

/// Collects what a server command reports, in order. Reactor thread only.
final class ReportLog {
    var lines: [String] = []
    func record(_ line: String) { lines.append(line) }
}

@Suite("Serving on a MemoryReactor")
struct ServeMemoryReactorTests {
    @Test("reports one line per endpoint, in --listen order, with the bound address and the reactor name")
    func listeningLines() throws {
        let reactor = MemoryReactor()
        let log = ReportLog()
        var listened: [any ListeningPort] = []
        let echo = try parse(
            [
                "echo", "--listen", "tcp:7000:interface=127.0.0.1", "--listen", "tcp6:7001:interface=\\:\\:1",
                "--listen", "unix:/tmp/torsion-echo.sock", "--listen", "unix:@torsion-echo",
            ], as: EchoCommand.self)
        try echo.serve(on: reactor, reactorName: "memory", report: log.record) { listened = $0 }
        #expect(
            log.lines == [
                "torsion: echo listening on 127.0.0.1:7000 (reactor: memory)",
                "torsion: echo listening on [::1]:7001 (reactor: memory)",
                "torsion: echo listening on /tmp/torsion-echo.sock (reactor: memory)",
                "torsion: echo listening on @torsion-echo (reactor: memory)",
            ])
        #expect(listened.count == 4)
        #expect(reactor.tcpServers.map(\.interface) == ["127.0.0.1", "::1"])
        #expect(reactor.unixServers.map(\.path) == ["/tmp/torsion-echo.sock", "\0torsion-echo"])
    }

    @Test("every endpoint serves the same factory, so chat users on each see each other")
    func oneFactoryForAllEndpoints() throws {
        let reactor = MemoryReactor()
        let chat = try parse(["chat", "--listen", "tcp:0", "--listen", "unix:@torsion-chat"], as: ChatCommand.self)
        try chat.serve(on: reactor, reactorName: "memory", report: { _ in })
        let factories = reactor.tcpServers.map(\.factory) + reactor.unixServers.map(\.factory)
        #expect(factories.count == 2)
        #expect(factories[0] === factories[1])
    }

    @Test("stopping the reactor stops listening on every port")
    func shutdownStopsListening() throws {
        let reactor = MemoryReactor()
        let qotd = try parse(["qotd", "--listen", "tcp:0", "--listen", "unix:/tmp/q.sock"], as: QOTDCommand.self)
        try qotd.serve(on: reactor, reactorName: "memory", report: { _ in })
        let ports = reactor.tcpServers.map(\.listeningPort) + reactor.unixServers.map(\.listeningPort)
        #expect(ports.allSatisfy { $0.listening })
        try reactor.stop()
        #expect(ports.allSatisfy { !$0.listening && $0.stopListeningCount == 1 })
        #expect(!reactor.running)
    }

    @Test("a listen failure stops the reactor, closes the ports opened so far and names the endpoint")
    func listenFailure() throws {
        let reactor = MemoryReactor()
        let log = ReportLog()
        let echo = try parse(["echo", "--listen", "tcp:0", "--listen", "tcp:8000"], as: EchoCommand.self)
        let error = try #require(throws: ListenFailedError.self) {
            try echo.serve(on: reactor, reactorName: "memory") { line in
                log.record(line)
                // The first port listens; the second cannot.
                reactor.listenError = CannotListenError(
                    interface: "", port: "8000", reason: "Address already in use")
            }
        }
        #expect(error.endpoint == "tcp:8000")
        #expect(
            error.description
                == "cannot listen on \"tcp:8000\": CannotListenError: couldn't listen on :8000: Address already in use")
        #expect(log.lines.count == 1)
        #expect(reactor.hasStopped)
        #expect(reactor.tcpServers.map(\.listeningPort.listening) == [false])
    }

    @Test("an endpoint description that does not parse is a usage error before the reactor runs")
    func badEndpoint() throws {
        for description in ["tcp:http", "bogus:1", "tcp:0:colour=red", "unix:"] {
            let reactor = MemoryReactor()
            let echo = try parse(["echo", "--listen", "tcp:0", "--listen", description], as: EchoCommand.self)
            let error = try #require(throws: ValidationError.self) {
                try echo.serve(on: reactor, reactorName: "memory", report: { _ in })
            }
            #expect(error.message.hasPrefix("--listen \"\(description)\": EndpointStringError: "))
            #expect(!reactor.hasRun)
            #expect(TorsionCommand.exitCode(for: error).rawValue != 0)
        }
    }
}
