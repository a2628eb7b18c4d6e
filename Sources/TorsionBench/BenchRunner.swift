import Synchronization

/// Puts a load on a listening server and measures it. The runner goes
/// through this protocol so that its tests can drive fake servers.
public protocol LoadDriver: Sendable {
    /// Runs `spec` on the calling thread; `progress` gets (phase, elapsed
    /// seconds, messages so far) about once a second.
    ///
    /// - Throws: an error whose description says why the load could not run.
    func run(_ spec: LoadSpec, progress: @escaping (LoadPhase, Double, Int) -> Void) throws -> LoadResult
}

/// One server × workload × round: what the load generator measured, or
/// why there is nothing.
public struct RunRecord: Sendable, Equatable, Codable {
    /// The round, from 1.
    public var round: Int
    /// The workload's short name (`echo`, `echo1000`, `stream`, `connect`).
    public var workload: String
    /// The server's name.
    public var server: String
    /// The measurement; `nil` when the run failed.
    public var result: LoadResult?
    /// Why the run failed; `nil` when it did not.
    public var error: String?

    /// Records a run.
    public init(round: Int, workload: String, server: String, result: LoadResult?, error: String?) {
        self.round = round
        self.workload = workload
        self.server = server
        self.result = result
        self.error = error
    }
}

/// Where the runner reports what it is doing.
public protocol BenchProgress: Sendable {
    /// A transient status: replaces the previous one on a terminal.
    func status(_ line: String)
    /// A line that stays (an error, a failed server).
    func message(_ line: String)
}

/// What the run has done so far, readable from any thread: the signal
/// handler of an interrupted run prints it.
public final class RunState: Sendable {
    private struct State {
        var done = 0
        var total = 0
        var current = "starting"
    }
    private let state = Mutex(State())

    /// An empty state.
    public init() {}

    /// e.g. `3 of 24 runs done; interrupted at round 1/3, echo, epoll (measuring)`.
    public var summary: String {
        state.withLock { "\($0.done) of \($0.total) runs done; interrupted at \($0.current)" }
    }

    func start(total: Int) { state.withLock { $0.total = total } }
    func begin(_ current: String) { state.withLock { $0.current = current } }
    func finishRun() { state.withLock { $0.done += 1 } }
}

/// Runs a ``BenchPlan``: every round visits every workload, and every
/// workload every server (in the round's order,
/// ``BenchPlan/servers(inRound:)``), so that drift of a shared machine
/// spreads over all servers alike. Runs on the calling thread, which it
/// pins to the plan's load CPU (the load generator runs in-process).
public struct BenchRunner: Sendable {
    /// What to run.
    public var plan: BenchPlan
    /// Starts the servers.
    public var launcher: any ServerLauncher
    /// Puts the load on them.
    public var driver: any LoadDriver
    /// Where progress goes.
    public var progress: any BenchProgress
    /// Shared with the interruption handler.
    public var state: RunState

    /// Describes a run.
    public init(
        plan: BenchPlan, launcher: any ServerLauncher, driver: any LoadDriver, progress: any BenchProgress,
        state: RunState = RunState()
    ) {
        self.plan = plan
        self.launcher = launcher
        self.driver = driver
        self.progress = progress
        self.state = state
    }

    /// Runs every round and returns one record per server × workload ×
    /// round, in the order they ran. A server that fails to start or
    /// whose load fails is recorded as failed and the run goes on.
    public func run() -> [RunRecord] {
        if let cpu = plan.loadCPU, !setAffinity(of: 0, to: cpu) {
            progress.message("torsion bench: could not pin the load generator to CPU \(cpu): \(errnoText())")
        }
        state.start(total: plan.runCount)
        var records: [RunRecord] = []
        for round in 1...plan.rounds {
            let servers = plan.servers(inRound: round)
            for workload in plan.workloads {
                for server in servers {
                    let record = measure(server, workload, round: round)
                    // A failure caused by an interruption's stopping the
                    // server is the handler's to report, not a failed run.
                    BenchInterruption.holdIfInterrupted()
                    if let error = record.error {
                        progress.message("round \(round) \(workload.name) \(server.name): FAILED: \(error)")
                    }
                    records.append(record)
                    state.finishRun()
                }
            }
        }
        return records
    }

    private func measure(_ server: BenchServer, _ workload: BenchWorkload, round: Int) -> RunRecord {
        let place = "round \(round)/\(plan.rounds)  \(workload.name)  \(server.name)"
        state.begin(place)
        progress.status("\(place)  starting")
        let running: any RunningServer
        do {
            running = try launcher.launch(server)
        } catch {
            return RunRecord(round: round, workload: workload.name, server: server.name, result: nil, error: error.message)
        }
        defer { running.stop() }
        let pid = running.pid
        progress.status("\(place)  listening on 127.0.0.1:\(running.port)\(pid.map { " (pid \($0))" } ?? "")")
        let spec = LoadSpec(
            port: running.port, workload: workload.workload, duration: plan.duration, warmup: plan.warmup,
            serverPID: pid)
        let progress = progress
        do {
            let result = try driver.run(spec) { phase, elapsed, messages in
                progress.status("\(place)  \(phase.rawValue)  \(formatElapsed(elapsed)) s  \(messages) msgs")
            }
            return RunRecord(round: round, workload: workload.name, server: server.name, result: result, error: nil)
        } catch {
            return RunRecord(round: round, workload: workload.name, server: server.name, result: nil, error: "\(error)")
        }
    }
}

private func formatElapsed(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}
