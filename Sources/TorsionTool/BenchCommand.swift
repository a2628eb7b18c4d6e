import ArgumentParser
import Glibc
import TorsionBench

/// `torsion bench`: the loop comparison. Every backend (or `--backends`)
/// and every `--peer` serves the same echo workloads in turn, interleaved
/// over `--rounds`; the median round of each is printed as a table, and
/// with `--out` written as JSON and SVG bar charts.
///
/// Runs on the calling thread, which becomes the load generator's (pinned
/// to `--load-cpu`); servers are child processes pinned to `--server-cpu`.
/// SIGINT or SIGTERM stops the running server and exits 130 or 143.
public struct BenchCommand: ParsableCommand {
    /// The subcommand's name and help.
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Compare the event loops: the same echo load on every backend, side by side.",
        discussion: """
            Each round runs every workload on every server (Torsion's `echo` on each backend, \
            then each --peer), one server at a time, in an order that rotates and reverses from \
            round to round: a child process on its own CPU, the load generator in this process \
            on another. Reports the median round per server and \
            workload: rate, MB/s, latency percentiles, the server's CPU µs per message, the load \
            generator's CPU %, errors, and the ratio to epoll (of the medians, and paired: the \
            median of the per-round ratios), with the 90% bootstrap interval of the ratio of \
            medians over the rounds (when it holds 1, the run cannot tell the two apart). \
            Workloads: echo (--connections × --size × --pipeline), echo1000 (1000 connections × \
            --size), stream (one connection, 64 KiB chunks), connect (16 concurrent \
            connect-echo-close clients).
            """
    )

    /// `--backends`: comma-separated backend names.
    @Option(help: ArgumentHelp("Backends to run, comma-separated (default: every available one).", valueName: "a,b"))
    public var backends: String?

    /// `--rounds`.
    @Option(help: "Rounds per server and workload; the median is reported.")
    public var rounds = 3

    /// `--duration` in seconds.
    @Option(help: ArgumentHelp("Seconds measured per run.", valueName: "seconds"))
    public var duration = 5.0

    /// `--warmup` in seconds.
    @Option(help: ArgumentHelp("Seconds of load before each measurement.", valueName: "seconds"))
    public var warmup = 1.0

    /// `--connections` of the `echo` workload.
    @Option(help: "Connections of the echo workload.")
    public var connections = 64

    /// `--size` of an echo message in bytes.
    @Option(help: ArgumentHelp("Bytes per echo message.", valueName: "bytes"))
    public var size = 64

    /// `--pipeline`: echo messages in flight per connection.
    @Option(help: "Echo messages in flight per connection.")
    public var pipeline = 1

    /// `--workloads`: comma-separated workload names.
    @Option(
        help: ArgumentHelp(
            "Workloads, comma-separated: \(BenchWorkload.names.joined(separator: ",")) (default: all).",
            valueName: "a,b"))
    public var workloads: String?

    /// `--peer NAME=CMD`, repeatable.
    @Option(
        name: .customLong("peer"),
        help: ArgumentHelp(
            "An external echo server: NAME=COMMAND, run by /bin/sh -c with {port} replaced by the port "
                + "(or the port appended). Repeatable.",
            valueName: "name=command"))
    public var peers: [String] = []

    /// `--out`: directory for `bench.json` and the SVG charts.
    @Option(help: ArgumentHelp("Write bench.json and bench-WORKLOAD.svg charts into this directory.", valueName: "dir"))
    public var out: String?

    /// `--server-cpu`.
    @Option(name: .customLong("server-cpu"), help: "CPU the servers are pinned to (default 0 with 2+ CPUs).")
    public var serverCPU: Int?

    /// `--load-cpu`.
    @Option(name: .customLong("load-cpu"), help: "CPU the load generator is pinned to (default 1 with 2+ CPUs).")
    public var loadCPU: Int?

    /// `--torsion`: the executable that runs the Torsion servers.
    @Option(help: ArgumentHelp("The torsion executable serving the backends (default: this one).", valueName: "path"))
    public var torsion: String?

    /// Makes the command; ArgumentParser decodes it.
    public init() {}

    /// Rejects bad values before anything starts (exit status 64).
    public func validate() throws {
        _ = try plan()
    }

    /// The validated plan of the run.
    ///
    /// - Throws: a `ValidationError` naming the option and the value; an
    ///   unknown backend lists the choices.
    public func plan() throws -> BenchPlan {
        let path = torsion ?? Self.runningExecutable()
        let plan: BenchPlan
        do {
            plan = try BenchPlan.make(
                backends: backends, workloads: workloads, peers: peers, rounds: rounds, duration: duration,
                warmup: warmup, connections: connections, size: size, pipeline: pipeline, serverCPU: serverCPU,
                loadCPU: loadCPU, torsionPath: path, cpuCount: onlineCPUCount())
        } catch {
            throw ValidationError(error.message)
        }
        let needsTorsion = plan.servers.contains { if case .torsion = $0.kind { true } else { false } }
        if needsTorsion, access(path, X_OK) != 0 {
            throw ValidationError("--torsion: \"\(path)\" is not an executable file")
        }
        return plan
    }

    /// Runs the plan, prints the table, writes `--out`; exits 1 when any
    /// run failed (after printing and writing everything).
    public func run() throws {
        let plan = try plan()
        let progress = StandardErrorProgress()
        let state = RunState()
        BenchInterruption.install(state: state, progress: progress)
        let launcher = ProcessLauncher(torsionPath: plan.torsionPath, cpu: plan.serverCPU, startTimeout: plan.startTimeout)
        let records = BenchRunner(
            plan: plan, launcher: launcher, driver: GeneratorDriver(), progress: progress, state: state
        ).run()
        progress.finish()
        let report = BenchReport(plan: plan, machine: .current, runs: records)
        print(report.table)
        if let out {
            let written = try report.write(to: out)
            progress.message("torsion bench: wrote \(written.joined(separator: ", "))")
        }
        let failed = records.filter { $0.error != nil }.count
        if failed > 0 {
            progress.message("torsion bench: \(failed) of \(records.count) runs failed")
            throw ExitCode(1)
        }
    }

    /// This process's executable, which serves `torsion echo` itself.
    static func runningExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
