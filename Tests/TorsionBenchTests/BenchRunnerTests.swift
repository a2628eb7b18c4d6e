import Synchronization
import Testing
import TorsionBench

/// A log shared by the fakes, in the order things happened.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func append(_ event: String) { events.withLock { $0.append(event) } }
    var all: [String] { events.withLock { $0 } }
}

/// A server that exists only in the log.
struct FakeServer: RunningServer {
    let name: String
    let port: UInt16
    let pid: Int32?
    let log: EventLog
    func stop() { log.append("stop \(name)") }
}

/// Starts fake servers; the servers named in `failing` fail to start.
struct FakeLauncher: ServerLauncher {
    let log: EventLog
    var failing: Set<String> = []
    func launch(_ server: BenchServer) throws(ServerStartError) -> any RunningServer {
        log.append("launch \(server.name)")
        if failing.contains(server.name) { throw ServerStartError("server \"\(server.name)\" exited with status 3") }
        return FakeServer(name: server.name, port: UInt16(4000 + server.name.count), pid: 77, log: log)
    }
}

struct DriverFailure: Error, CustomStringConvertible {
    var description: String { "cannot connect: refused" }
}

/// Measures nothing: returns a result whose rate is the port, after one
/// progress report; fails for `failingPort`.
struct FakeDriver: LoadDriver {
    let log: EventLog
    var failingPort: UInt16?
    let recorded = SpecLog()
    func run(_ spec: LoadSpec, progress: @escaping (LoadPhase, Double, Int) -> Void) throws -> LoadResult {
        recorded.specs.withLock { $0.append(spec) }
        log.append("load \(spec.workload.label) :\(spec.port)")
        progress(.measuring, 0.5, 42)
        if spec.port == failingPort { throw DriverFailure() }
        return result(Int(spec.port))
    }
}

/// The specs a ``FakeDriver`` was given.
final class SpecLog: Sendable {
    let specs = Mutex<[LoadSpec]>([])
}

/// Keeps what the runner reported.
final class RecordingProgress: BenchProgress {
    let statuses = Mutex<[String]>([])
    let messages = Mutex<[String]>([])
    func status(_ line: String) { statuses.withLock { $0.append(line) } }
    func message(_ line: String) { messages.withLock { $0.append(line) } }
}

@Suite("torsion bench runner")
struct BenchRunnerTests {
    func runner(
        _ plan: BenchPlan, launcher: FakeLauncher, driver: FakeDriver, progress: RecordingProgress = RecordingProgress()
    ) -> BenchRunner {
        var plan = plan
        plan.loadCPU = nil  // leave the test thread unpinned
        return BenchRunner(plan: plan, launcher: launcher, driver: driver, progress: progress)
    }

    @Test("every round visits every workload and every workload every server, one server at a time")
    func interleaving() throws {
        let log = EventLog()
        let plan = try makePlan(backends: "epoll,poll", workloads: "echo,connect", peers: ["c=srv"], rounds: 2)
        let records = runner(plan, launcher: FakeLauncher(log: log), driver: FakeDriver(log: log)).run()
        // Round 2 visits the servers of round 1 in reverse.
        #expect(records.map { "\($0.round) \($0.workload) \($0.server)" } == [
            "1 echo epoll", "1 echo poll", "1 echo c", "1 connect epoll", "1 connect poll", "1 connect c",
            "2 echo c", "2 echo poll", "2 echo epoll", "2 connect c", "2 connect poll", "2 connect epoll",
        ])
        // Each server is stopped before the next one starts.
        #expect(Array(log.all.prefix(6)) == [
            "launch epoll", "load echo 64×64B :4005", "stop epoll", "launch poll", "load echo 64×64B :4004", "stop poll",
        ])
        #expect(records.allSatisfy { $0.error == nil && $0.result?.messages == 4000 + $0.server.count })
    }

    @Test("the load spec carries the server's port and pid and the plan's duration and warmup")
    func spec() throws {
        let log = EventLog()
        let driver = FakeDriver(log: log)
        let plan = try makePlan(backends: "poll", workloads: "stream", rounds: 1, duration: 0.25, warmup: 0.5)
        _ = runner(plan, launcher: FakeLauncher(log: log), driver: driver).run()
        let spec = try #require(driver.recorded.specs.withLock { $0.first })
        #expect(spec.port == 4004 && spec.serverPID == 77 && spec.host == "127.0.0.1")
        #expect(spec.duration == 0.25 && spec.warmup == 0.5)
        #expect(spec.workload == .stream(connections: 1, size: 65536))
    }

    @Test("a server that fails to start is recorded as failed, reported, and the run goes on")
    func startFailure() throws {
        let log = EventLog()
        let progress = RecordingProgress()
        let plan = try makePlan(backends: "epoll,poll", workloads: "echo", rounds: 1)
        let records = runner(plan, launcher: FakeLauncher(log: log, failing: ["epoll"]), driver: FakeDriver(log: log), progress: progress).run()
        #expect(records[0].result == nil && records[0].error == "server \"epoll\" exited with status 3")
        #expect(records[1].result != nil)
        #expect(log.all == ["launch epoll", "launch poll", "load echo 64×64B :4004", "stop poll"])
        #expect(progress.messages.withLock { $0 } == ["round 1 echo epoll: FAILED: server \"epoll\" exited with status 3"])
    }

    @Test("a load that fails is recorded with its reason and the server is still stopped")
    func loadFailure() throws {
        let log = EventLog()
        let plan = try makePlan(backends: "epoll", workloads: "echo", rounds: 1)
        let records = runner(plan, launcher: FakeLauncher(log: log), driver: FakeDriver(log: log, failingPort: 4005)).run()
        #expect(records.map(\.error) == ["cannot connect: refused"])
        #expect(log.all.last == "stop epoll")
    }

    @Test("progress names the round, workload, server, phase, elapsed time and messages; the state counts runs")
    func progressLines() throws {
        let log = EventLog()
        let progress = RecordingProgress()
        let state = RunState()
        var plan = try makePlan(backends: "poll", workloads: "echo", rounds: 2)
        plan.loadCPU = nil
        let records = BenchRunner(
            plan: plan, launcher: FakeLauncher(log: log), driver: FakeDriver(log: log), progress: progress, state: state
        ).run()
        #expect(records.count == 2)
        #expect(progress.statuses.withLock { $0 }.prefix(3) == [
            "round 1/2  echo  poll  starting", "round 1/2  echo  poll  listening on 127.0.0.1:4004 (pid 77)",
            "round 1/2  echo  poll  measuring  0.5 s  42 msgs",
        ])
        #expect(state.summary == "2 of 2 runs done; interrupted at round 2/2  echo  poll")
    }
}
