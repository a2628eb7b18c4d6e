import Foundation

/// One server × workload over all rounds: the median round by rate, the
/// spread, and the ratio to the epoll backend on the same workload.
public struct BenchSummary: Sendable, Equatable, Codable {
    /// The workload's short name.
    public var workload: String
    /// The workload's label, e.g. `echo 64×64B`.
    public var label: String
    /// The server's name.
    public var server: String
    /// The round with the median rate (the lower median for an even
    /// number of rounds, so it is always a round that happened); `nil`
    /// when every round failed.
    public var median: LoadResult?
    /// The lowest rate of the successful rounds, messages per second.
    public var minRate: Double?
    /// The highest rate of the successful rounds, messages per second.
    public var maxRate: Double?
    /// The median rate divided by epoll's median rate on the same
    /// workload; `nil` when either is missing.
    public var ratioToEpoll: Double?
    /// The median, over the rounds in which both succeeded, of this
    /// server's rate divided by epoll's rate in the same round; `nil` when
    /// there is no such round. Each round runs every server once, close in
    /// time, so the per-round ratio cancels most of the drift of a shared
    /// machine between rounds, which the ratio of medians does not.
    public var pairedRatioToEpoll: Double?
    /// The 90 % bootstrap interval of ``ratioToEpoll`` over the run's
    /// rounds (see `RatioInterval`); `nil` with fewer than three successful
    /// rounds on either side. When it holds 1, this run cannot tell the
    /// server from epoll on this workload.
    public var ratioToEpollInterval: ClosedRange<Double>?
    /// How many rounds succeeded.
    public var rounds: Int
    /// Why rounds failed, one entry per failed round.
    public var failures: [String]

    /// Summarizes the records of one server × workload.
    public static func summarize(workload: BenchWorkload, server: String, records: [RunRecord]) -> BenchSummary {
        let mine = records.filter { $0.workload == workload.name && $0.server == server }
        let results = mine.compactMap(\.result).sorted { $0.messagesPerSecond < $1.messagesPerSecond }
        return BenchSummary(
            workload: workload.name, label: workload.workload.label, server: server,
            median: results.isEmpty ? nil : results[(results.count - 1) / 2],
            minRate: results.first?.messagesPerSecond, maxRate: results.last?.messagesPerSecond,
            ratioToEpoll: nil, pairedRatioToEpoll: nil, ratioToEpollInterval: nil, rounds: results.count,
            failures: mine.compactMap(\.error))
    }

    /// The median of `values` (the mean of the middle two for an even
    /// count); `nil` when empty.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// `server`'s successful rates on `workload`, keyed by round.
    static func ratesByRound(workload: String, server: String, records: [RunRecord]) -> [Int: Double] {
        var rates: [Int: Double] = [:]
        for record in records where record.workload == workload && record.server == server {
            if let rate = record.result?.messagesPerSecond { rates[record.round] = rate }
        }
        return rates
    }

    /// The per-round ratios of `rates` to `reference` (both keyed by round,
    /// as ``ratesByRound(workload:server:records:)`` gives them), in round
    /// order, over the rounds both have and `reference` is above zero.
    static func pairedRatios(_ rates: [Int: Double], over reference: [Int: Double]) -> [Double] {
        rates.keys.sorted().compactMap { round in
            guard let rate = rates[round], let referenceRate = reference[round], referenceRate > 0 else { return nil }
            return rate / referenceRate
        }
    }

    /// Every server × workload of `plan`, workload by workload in the
    /// plan's order, with ratios to the `epoll` backend filled in.
    public static func summarize(plan: BenchPlan, records: [RunRecord]) -> [BenchSummary] {
        plan.workloads.flatMap { workload in
            let rows = plan.servers.map { summarize(workload: workload, server: $0.name, records: records) }
            let epoll = plan.servers.firstIndex { $0.kind == .torsion(backend: "epoll") }
            let epollRate = epoll.flatMap { rows[$0].median?.messagesPerSecond }
            // Epoll's rates by round, read once per workload for every row.
            let epollRates = epoll.map {
                ratesByRound(workload: workload.name, server: plan.servers[$0].name, records: records)
            }
            return rows.map { row in
                var row = row
                if let epollRate, epollRate > 0, let rate = row.median?.messagesPerSecond {
                    row.ratioToEpoll = rate / epollRate
                }
                if let epollRates {
                    let rates = ratesByRound(workload: workload.name, server: row.server, records: records)
                    row.pairedRatioToEpoll = median(pairedRatios(rates, over: epollRates))
                    row.ratioToEpollInterval = RatioInterval.ofMedians(rates, over: epollRates)
                }
                return row
            }
        }
    }
}

/// The machine a run was made on.
public struct MachineInfo: Sendable, Equatable, Codable {
    /// CPUs online.
    public var cpus: Int
    /// The kernel release (`uname -r`).
    public var kernel: String
    /// The machine architecture (`uname -m`).
    public var architecture: String

    /// Describes a machine.
    public init(cpus: Int, kernel: String, architecture: String) {
        self.cpus = cpus
        self.kernel = kernel
        self.architecture = architecture
    }

    /// This machine.
    public static var current: MachineInfo {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return MachineInfo(cpus: onlineCPUCount(), kernel: field(names.release), architecture: field(names.machine))
    }
}

/// What `bench.json` holds: the settings, the machine, every round's raw
/// result and the summaries. Decodable again, for later comparison.
public struct BenchReport: Sendable, Equatable, Codable {
    /// The settings of the run.
    public struct Settings: Sendable, Equatable, Codable {
        /// Rounds per server × workload.
        public var rounds: Int
        /// Seconds measured per run.
        public var duration: Double
        /// Seconds of warmup per run.
        public var warmup: Double
        /// The CPU of the servers, if pinned.
        public var serverCPU: Int?
        /// The CPU of the load generator, if pinned.
        public var loadCPU: Int?
        /// The servers in run order.
        public var servers: [BenchServer]
        /// The workloads: short name to label.
        public var workloads: [String: String]
    }

    /// The settings of the run.
    public var settings: Settings
    /// Where it ran.
    public var machine: MachineInfo
    /// Every run, in the order they ran.
    public var runs: [RunRecord]
    /// One per server × workload.
    public var summaries: [BenchSummary]

    /// Collects the report of `plan`'s run.
    public init(plan: BenchPlan, machine: MachineInfo, runs: [RunRecord]) {
        settings = Settings(
            rounds: plan.rounds, duration: plan.duration, warmup: plan.warmup, serverCPU: plan.serverCPU,
            loadCPU: plan.loadCPU, servers: plan.servers,
            workloads: Dictionary(uniqueKeysWithValues: plan.workloads.map { ($0.name, $0.workload.label) }))
        self.machine = machine
        self.runs = runs
        summaries = BenchSummary.summarize(plan: plan, records: runs)
    }

    /// Pretty-printed JSON with sorted keys; non-finite numbers (which no
    /// real measurement produces) are written as strings rather than
    /// failing the whole report.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// Reads a report written by ``json()``.
    public static func decode(_ data: Data) throws -> BenchReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(BenchReport.self, from: data)
    }

    /// The table printed at the end of a run: one row per server ×
    /// workload, grouped by workload.
    public var table: String { BenchTable.render(summaries, rounds: settings.rounds) }

    /// Writes `bench.json` and one `bench-WORKLOAD.svg` per workload into
    /// `directory`, creating it; returns the paths written.
    public func write(to directory: String) throws -> [String] {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: directory)
        var written: [String] = []
        let jsonURL = base.appendingPathComponent("bench.json")
        try json().write(to: jsonURL)
        written.append(jsonURL.path)
        var workloadNames: [String] = []
        for summary in summaries where !workloadNames.contains(summary.workload) {
            workloadNames.append(summary.workload)
        }
        for name in workloadNames {
            let rows = summaries.filter { $0.workload == name }
            let url = base.appendingPathComponent("bench-\(name).svg")
            try Data(BenchChart.svg(rows, rounds: settings.rounds).utf8).write(to: url)
            written.append(url.path)
        }
        return written
    }
}

/// The text table of a run.
enum BenchTable {
    static let headers = [
        "workload", "server", "rate/s", "min..max", "MB/s", "p50 µs", "p99 µs", "p99.9 µs", "srv µs/msg", "load CPU%",
        "errors", "vs epoll", "paired", "90% interval",
    ]

    static func render(_ summaries: [BenchSummary], rounds: Int) -> String {
        let rows = summaries.map(cells)
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return index < 2 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        var lines = ["median of \(rounds) round\(rounds == 1 ? "" : "s") per server and workload", line(headers)]
        var previous: String?
        for (summary, row) in zip(summaries, rows) {
            if let previous, previous != summary.workload { lines.append("") }
            previous = summary.workload
            lines.append(line(row))
        }
        for summary in summaries {
            for failure in summary.failures { lines.append("\(summary.server) \(summary.workload): \(failure)") }
        }
        return lines.joined(separator: "\n")
    }

    static func cells(_ summary: BenchSummary) -> [String] {
        guard let median = summary.median else {
            return [summary.label, summary.server, "FAILED"] + Array(repeating: "-", count: headers.count - 3)
        }
        let spread = "\(integer(summary.minRate ?? 0))..\(integer(summary.maxRate ?? 0))"
        return [
            summary.label, summary.server + (summary.failures.isEmpty ? "" : " (\(summary.failures.count) failed)"),
            integer(median.messagesPerSecond), spread, fixed(median.megabytesPerSecond, 1),
            fixed(median.latency.p50, 0), fixed(median.latency.p99, 0), fixed(median.latency.p999, 0),
            median.serverMicrosecondsPerMessage.map { fixed($0, 2) } ?? "-", fixed(median.loadCPUPercent, 0),
            String(median.errors), summary.ratioToEpoll.map { fixed($0, 2) + "×" } ?? "-",
            summary.pairedRatioToEpoll.map { fixed($0, 2) + "×" } ?? "-",
            summary.ratioToEpollInterval.map { fixed($0.lowerBound, 2) + ".." + fixed($0.upperBound, 2) } ?? "-",
        ]
    }

    /// A whole number with thousands separators, e.g. `1,234,567`.
    static func integer(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    /// `value` with `places` decimals.
    static func fixed(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(places)f", value)
    }
}
