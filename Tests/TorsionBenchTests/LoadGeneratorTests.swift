import Foundation
import Glibc
import Testing

@testable import TorsionBench

/// Records the phases the progress callback saw, from the generator's thread.
private final class PhaseLog: @unchecked Sendable {
    private let lock = NSLock()
    private var phases: [LoadPhase] = []
    func append(_ phase: LoadPhase) { lock.withLock { phases.append(phase) } }
    var seen: [LoadPhase] { lock.withLock { phases } }
}

// Serialized: each test runs a real load on a shared two-core machine.
@Suite("Load generator against in-test servers", .serialized)
struct LoadGeneratorTests {
    private func spec(_ port: UInt16, _ workload: Workload, serverPID: Int32? = nil) -> LoadSpec {
        LoadSpec(port: port, workload: workload, duration: 0.2, warmup: 0.05, serverPID: serverPID, readyTimeout: 5)
    }

    @Test("echo: every byte verified, messages counted, bytes are messages × size, CPU read for both sides")
    func echoVerifies() throws {
        let server = try TestEchoServer(.echo)
        defer { server.stop() }
        let log = PhaseLog()
        let outcome = runWithWatchdog(
            spec(server.port, .echo(connections: 8, size: 64, pipeline: 4), serverPID: getpid()),
            progress: { phase, _, _ in log.append(phase) })
        let result = try #require(try outcome?.get())
        #expect(result.errors == 0)
        #expect(result.messages > 0)
        #expect(result.bytes == result.messages * 64)
        #expect(result.connections == 8)
        #expect(result.seconds >= 0.2)
        #expect(result.latency.p50 > 0 && result.latency.p50 <= result.latency.p99)
        #expect(result.latency.p99 <= result.latency.p999)
        #expect(result.loadCPUSeconds >= 0)
        #expect(result.serverCPUSeconds != nil)
        #expect(log.seen.first == .connecting)
        #expect(Set(log.seen) == [.connecting, .warmup, .measuring, .draining])
    }

    @Test("a server that flips a byte fails every connection once; the run still returns")
    func corruptionCounted() throws {
        let server = try TestEchoServer(.corrupt)
        defer { server.stop() }
        let result = try #require(try runWithWatchdog(spec(server.port, .echo(connections: 4, size: 64, pipeline: 1)))?.get())
        #expect(result.errors == 4)
        #expect(result.messages == 0)
    }

    @Test("a server that closes connections early: each counts once as an error, no hang")
    func earlyCloseCounted() throws {
        let server = try TestEchoServer(.closeAfter(640))
        defer { server.stop() }
        let result = try #require(try runWithWatchdog(spec(server.port, .echo(connections: 4, size: 64, pipeline: 2)))?.get())
        #expect(result.errors == 4)
    }

    @Test("a server that echoes too many bytes fails every connection once")
    func tooManyBytesCounted() throws {
        let server = try TestEchoServer(.duplicate)
        defer { server.stop() }
        let result = try #require(try runWithWatchdog(spec(server.port, .echo(connections: 3, size: 64, pipeline: 1)))?.get())
        #expect(result.errors == 3)
    }

    @Test("bytes still missing when the drain times out count once per connection")
    func missingAfterDrain() throws {
        let server = try TestEchoServer(.swallowAfter(640))
        defer { server.stop() }
        let outcome = runWithWatchdog(spec(server.port, .echo(connections: 3, size: 64, pipeline: 2)), drainTimeout: 0.1)
        let result = try #require(try outcome?.get())
        #expect(result.errors == 3)
    }

    @Test("a refused port is a cannotConnect error naming the address")
    func refusedPort() throws {
        // A port that was just free: bind, read the port, close.
        let server = try TestEchoServer(.echo)
        let port = server.port
        server.stop()
        let outcome = try #require(runWithWatchdog(spec(port, .echo(connections: 2, size: 16, pipeline: 1))))
        #expect(throws: LoadError.self) { try outcome.get() }
        if case .failure(let error) = outcome {
            #expect(error.kind == .cannotConnect)
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
    }

    @Test("a server that never answers is a notReady error after the ready timeout")
    func silentServer() throws {
        let server = try TestEchoServer(.silent)
        defer { server.stop() }
        var silent = spec(server.port, .echo(connections: 2, size: 16, pipeline: 1))
        silent.readyTimeout = 0.2
        let outcome = try #require(runWithWatchdog(silent))
        if case .failure(let error) = outcome {
            #expect(error.kind == .notReady)
        } else {
            Issue.record("expected notReady, got \(outcome)")
        }
    }

    @Test("stream: chunks flow back verified with bounded chunks in flight")
    func streamWorkload() throws {
        let server = try TestEchoServer(.echo)
        defer { server.stop() }
        let result = try #require(try runWithWatchdog(spec(server.port, .stream(connections: 2, size: 65536)))?.get())
        #expect(result.errors == 0)
        #expect(result.messages > 0)
        #expect(result.bytes == result.messages * 65536)
        #expect(result.connections == 2)
    }

    @Test("connect: each cycle connects, echoes one byte and closes; one message per cycle")
    func connectWorkload() throws {
        let server = try TestEchoServer(.echo)
        defer { server.stop() }
        let result = try #require(try runWithWatchdog(spec(server.port, .connect(concurrency: 4)))?.get())
        #expect(result.errors == 0)
        #expect(result.messages > 0)
        #expect(result.bytes == result.messages)
        #expect(result.connections == 4)
    }

    @Test("out-of-range workloads and durations are system errors, before any socket opens")
    func invalidSpecs() {
        for workload in [
            Workload.echo(connections: 0, size: 64, pipeline: 1), .echo(connections: 1, size: 0, pipeline: 1),
            .echo(connections: 1, size: 64, pipeline: 0), .echo(connections: 1, size: LoadGenerator.maxMessageSize + 1, pipeline: 1),
            .connect(concurrency: -1),
        ] {
            #expect(throws: LoadError.self) { try LoadGenerator.run(LoadSpec(port: 1, workload: workload, duration: 0.1)) }
        }
        do {
            _ = try LoadGenerator.run(LoadSpec(port: 1, workload: .connect(concurrency: 1), duration: -1))
            Issue.record("a negative duration was accepted")
        } catch {
            #expect(error.kind == .system)
        }
        do {
            _ = try LoadGenerator.run(LoadSpec(host: "not-an-address", port: 1, workload: .connect(concurrency: 1), duration: 0.1))
            Issue.record("a host name was accepted")
        } catch {
            #expect(error.kind == .cannotConnect)
            #expect(error.message.contains("not-an-address"))
        }
    }

    @Test("a descriptor need above the hard limit is a system error naming RLIMIT_NOFILE")
    func descriptorLimit() {
        do {
            try LoadSystem.ensureDescriptors(Int(Int32.max))
            Issue.record("an impossible descriptor count was accepted")
        } catch {
            #expect(error.kind == .system)
            #expect(error.message.contains("RLIMIT_NOFILE"))
        }
    }

    @Test("processCPUSeconds reads this process's CPU time and is nil for a dead or invalid pid")
    func processCPU() throws {
        // Burn CPU until the kernel has charged at least one tick.
        var spins: UInt64 = 0
        var seconds = processCPUSeconds(pid: getpid()) ?? 0
        while seconds == 0 && spins < 10_000_000_000 {
            for step in 0..<1_000_000 { spins &+= UInt64(step) | 1 }
            seconds = processCPUSeconds(pid: getpid()) ?? 0
        }
        #expect(seconds > 0)
        var child: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("true"), nil]
        defer { free(argv[0]) }
        try #require(posix_spawnp(&child, "true", nil, nil, &argv, environ) == 0)
        var status: Int32 = 0
        try #require(waitpid(child, &status, 0) == child)
        #expect(processCPUSeconds(pid: child) == nil)
        #expect(processCPUSeconds(pid: 0) == nil)
        #expect(processCPUSeconds(pid: -5) == nil)
    }
}
