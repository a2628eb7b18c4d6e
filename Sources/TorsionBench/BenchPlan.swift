import TorsionPosix

/// A server `torsion bench` measures: a Torsion echo server on one backend,
/// or an external peer started from a shell command.
public struct BenchServer: Sendable, Equatable, Hashable, Codable {
    /// How the server is started.
    public enum Kind: Sendable, Equatable, Hashable, Codable {
        /// `torsion echo --reactor BACKEND` (the backend's raw name).
        case torsion(backend: String)
        /// A shell command run by `/bin/sh -c`; `{port}` in it is replaced
        /// by the port, or the port is appended when it has no `{port}`.
        case peer(command: String)
    }

    /// The name in tables, JSON and charts: the backend's name, or the
    /// peer's `NAME`.
    public var name: String
    /// How the server is started.
    public var kind: Kind

    /// A Torsion echo server on `backend`.
    public static func torsion(_ backend: Backend) -> BenchServer {
        BenchServer(name: backend.rawValue, kind: .torsion(backend: backend.rawValue))
    }

    /// An external server named `name`, started by `command`.
    public static func peer(name: String, command: String) -> BenchServer {
        BenchServer(name: name, kind: .peer(command: command))
    }

    /// Parses a `--peer NAME=CMD` value. The name is what precedes the
    /// first `=`; it must be non-empty, made of letters, digits, `-`, `_`
    /// and `.` (it names an SVG bar and a JSON entry), and must not be a
    /// backend's name, which would make "ratio to epoll" ambiguous.
    public static func parsePeer(_ value: String) throws(BenchOptionError) -> BenchServer {
        guard let equals = value.firstIndex(of: "=") else {
            throw BenchOptionError("--peer: expected NAME=COMMAND, got \"\(value)\"")
        }
        let name = String(value[..<equals])
        let command = String(value[value.index(after: equals)...])
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw BenchOptionError("--peer: the name \"\(name)\" must be letters, digits, '-', '_' or '.'")
        }
        guard Backend(rawValue: name) == nil else {
            throw BenchOptionError("--peer: \"\(name)\" is a backend's name; choose another name for the peer")
        }
        guard command.contains(where: { !$0.isWhitespace }) else {
            throw BenchOptionError("--peer \(name): the command is empty")
        }
        return .peer(name: name, command: command)
    }

    /// The shell command of a peer for `port`: every `{port}` replaced by
    /// it, or ` PORT` appended when the command has no `{port}`.
    public static func peerCommand(_ command: String, port: UInt16) -> String {
        command.contains("{port}") ? command.replacing("{port}", with: String(port)) : "\(command) \(port)"
    }

    /// The listen queue Torsion's servers get in a run: 4096, what every
    /// reference server it is compared with asks for (the C echo servers'
    /// `listen`, nio-echo's `.backlog`). The endpoint default is Twisted's
    /// 50, and with it a thousand connections opened at once overflow the
    /// queue: dropped handshakes are retried seconds later, and a run can
    /// fail its ready phase for a reason the peers do not share.
    public static let listenBacklog = 4096

    /// The arguments that start Torsion's echo server on `backend` at
    /// loopback `port`, with ``listenBacklog``.
    public static func torsionArguments(torsionPath: String, backend: String, port: UInt16) -> [String] {
        [torsionPath, "echo", "--reactor", backend, "--listen", "tcp:\(port):interface=127.0.0.1:backlog=\(listenBacklog)"]
    }
}

/// One workload of a run with the short name it has on the command line
/// (`--workloads`) and in file names (`bench-NAME.svg`).
public struct BenchWorkload: Sendable, Equatable, Hashable {
    /// `echo`, `echo1000`, `stream` or `connect`.
    public var name: String
    /// The load itself.
    public var workload: Workload

    /// Names a workload.
    public init(name: String, workload: Workload) {
        self.name = name
        self.workload = workload
    }

    /// The names `--workloads` accepts, in the default order.
    public static let names = ["echo", "echo1000", "stream", "connect"]

    /// The workload called `name` with the echo shape of the command line:
    /// `echo` is connections × size × pipeline; `echo1000` is 1000
    /// connections × size (the many-connections case); `stream` is one
    /// connection of 64 KiB chunks; `connect` is 16 concurrent
    /// connect-echo-close clients.
    public static func named(
        _ name: String, connections: Int, size: Int, pipeline: Int
    ) throws(BenchOptionError) -> BenchWorkload {
        switch name {
        case "echo": BenchWorkload(name: name, workload: .echo(connections: connections, size: size, pipeline: pipeline))
        case "echo1000": BenchWorkload(name: name, workload: .echo(connections: 1000, size: size, pipeline: 1))
        case "stream": BenchWorkload(name: name, workload: .stream(connections: 1, size: 65536))
        case "connect": BenchWorkload(name: name, workload: .connect(concurrency: 16))
        default:
            throw BenchOptionError(
                "--workloads: unknown workload \"\(name)\"; choose from \(names.joined(separator: ", "))")
        }
    }
}

/// A bad `torsion bench` option, with a message naming the option and the
/// value.
public struct BenchOptionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong, e.g. `--rounds: must be at least 1, got 0`.
    public let message: String
    /// Wraps `message`.
    public init(_ message: String) { self.message = message }
    /// ``message``.
    public var description: String { message }
}

/// Everything a `torsion bench` run does, validated: the runner trusts it.
public struct BenchPlan: Sendable, Equatable {
    /// The servers: backends, then peers. The first round visits them in
    /// this order; later rounds vary it (``servers(inRound:)``).
    public var servers: [BenchServer]
    /// The workloads, in the order each round runs them.
    public var workloads: [BenchWorkload]
    /// How many times every server × workload is measured.
    public var rounds: Int
    /// Seconds of measurement per run.
    public var duration: Double
    /// Seconds of load before each measurement.
    public var warmup: Double
    /// The CPU the servers are pinned to; `nil` leaves them unpinned.
    public var serverCPU: Int?
    /// The CPU the load generator (the bench's own thread) is pinned to;
    /// `nil` leaves it unpinned.
    public var loadCPU: Int?
    /// The `torsion` executable that runs the Torsion servers.
    public var torsionPath: String
    /// Seconds a server may take to accept connections after it started.
    public var startTimeout: Double

    /// The limits of the options: beyond them a run would exhaust
    /// descriptors or memory rather than measure anything.
    public enum Limits {
        /// At most this many connections for `echo` (each is a descriptor
        /// on both sides, the default soft limit is 1024 per process, and
        /// `echo1000` already needs 1000).
        public static let connections = 10_000
        /// The largest message, 1 MiB: beyond that `echo` measures copying.
        public static let size = 1 << 20
        /// The deepest pipeline per connection.
        public static let pipeline = 1024
        /// At most this many rounds.
        public static let rounds = 1000
        /// The longest duration or warmup, one hour.
        public static let seconds = 3600.0
    }

    /// Validates the command-line values and builds the plan.
    ///
    /// - Parameters:
    ///   - backends: comma-separated backend names, `nil` for every
    ///     available backend.
    ///   - workloads: comma-separated workload names, `nil` for all four.
    ///   - peers: `NAME=CMD` values.
    ///   - cpuCount: the CPUs online; pinning happens only with two or
    ///     more, and CPU numbers must be below it.
    /// - Throws: ``BenchOptionError`` naming the option and the bad value;
    ///   an unknown or unavailable backend lists every backend.
    public static func make(
        backends: String?, workloads: String?, peers: [String], rounds: Int, duration: Double, warmup: Double,
        connections: Int, size: Int, pipeline: Int, serverCPU: Int?, loadCPU: Int?, torsionPath: String,
        cpuCount: Int, startTimeout: Double = 10
    ) throws(BenchOptionError) -> BenchPlan {
        try check("--rounds", rounds, in: 1...Limits.rounds)
        try check("--connections", connections, in: 1...Limits.connections)
        try check("--size", size, in: 1...Limits.size)
        try check("--pipeline", pipeline, in: 1...Limits.pipeline)
        guard duration.isFinite, duration > 0, duration <= Limits.seconds else {
            throw BenchOptionError("--duration: must be more than 0 and at most \(Int(Limits.seconds)) seconds, got \(duration)")
        }
        guard warmup.isFinite, warmup >= 0, warmup <= Limits.seconds else {
            throw BenchOptionError("--warmup: must be 0 to \(Int(Limits.seconds)) seconds, got \(warmup)")
        }
        var servers: [BenchServer] = []
        if let backends {
            for name in try list("--backends", backends) {
                let backend: Backend
                do {
                    backend = try Backend(named: name)
                } catch {
                    throw BenchOptionError("--backends: \(error)")
                }
                servers.append(.torsion(backend))
            }
        } else {
            servers = Backend.available.map(BenchServer.torsion)
        }
        for peer in peers {
            servers.append(try BenchServer.parsePeer(peer))
        }
        if let duplicate = firstDuplicate(servers.map(\.name)) {
            throw BenchOptionError("server \"\(duplicate)\" is named twice")
        }
        guard !servers.isEmpty else { throw BenchOptionError("no server to measure: no backend is available and no --peer given") }
        let names = try workloads.map { text throws(BenchOptionError) in try list("--workloads", text) } ?? BenchWorkload.names
        if let duplicate = firstDuplicate(names) {
            throw BenchOptionError("--workloads: \"\(duplicate)\" is named twice")
        }
        var chosen: [BenchWorkload] = []
        for name in names {
            chosen.append(try BenchWorkload.named(name, connections: connections, size: size, pipeline: pipeline))
        }
        let pinning = cpuCount >= 2
        for (option, cpu) in [("--server-cpu", serverCPU), ("--load-cpu", loadCPU)] {
            guard let cpu else { continue }
            guard pinning else { throw BenchOptionError("\(option): this machine has one CPU; nothing to pin to") }
            try check(option, cpu, in: 0...(cpuCount - 1))
        }
        // The reference harness's choice: servers on CPU 0, load on CPU 1.
        let server = pinning ? (serverCPU ?? (loadCPU == 0 ? 1 : 0)) : nil
        let load = pinning ? (loadCPU ?? (server == 1 ? 0 : 1)) : nil
        if let server, server == load {
            throw BenchOptionError("--server-cpu and --load-cpu are both \(server): the server and the load would share a CPU")
        }
        return BenchPlan(
            servers: servers, workloads: chosen, rounds: rounds, duration: duration, warmup: warmup,
            serverCPU: server, loadCPU: load, torsionPath: torsionPath, startTimeout: startTimeout)
    }

    /// The number of server runs the plan makes.
    public var runCount: Int { rounds * workloads.count * servers.count }

    /// The order round `round` (from 1) visits the servers in. Rounds go
    /// in pairs: the odd round visits ``servers`` rotated by one place
    /// more than the odd round before it, and the even round after it
    /// visits the same servers in reverse.
    ///
    /// A fixed order gives every server the same place in every round and
    /// the same server before it, so anything that depends on place would
    /// bias the same server every time, and no number of rounds would
    /// average it out: drift over a round, or what the previous server's
    /// run left behind (a thousand connections in TIME_WAIT). Reversing
    /// cancels drift that is linear over a pair of rounds; rotating gives
    /// every server every place, each exactly twice over twice as many
    /// rounds as there are servers, and varies which server comes before it.
    public func servers(inRound round: Int) -> [BenchServer] {
        guard !servers.isEmpty else { return [] }
        let shift = (round - 1) / 2 % servers.count
        let rotated = Array(servers[shift...] + servers[..<shift])
        return round % 2 == 0 ? rotated.reversed() : rotated
    }

    private static func check(_ option: String, _ value: Int, in range: ClosedRange<Int>) throws(BenchOptionError) {
        guard range.contains(value) else {
            throw BenchOptionError("\(option): must be \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
    }

    private static func list(_ option: String, _ text: String) throws(BenchOptionError) -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0.filter { !$0.isWhitespace })
        }
        guard !items.contains(where: \.isEmpty) else {
            throw BenchOptionError("\(option): expected a comma-separated list of names, got \"\(text)\"")
        }
        return items
    }

    private static func firstDuplicate(_ names: [String]) -> String? {
        var seen: Set<String> = []
        return names.first { !seen.insert($0).inserted }
    }
}
