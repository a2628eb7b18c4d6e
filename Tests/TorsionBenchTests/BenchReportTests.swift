import Foundation
import Testing
@testable import TorsionBench

/// A result of `messages` in one second, so its rate is `messages`/s.
func result(_ messages: Int, errors: Int = 0, serverCPU: Double? = 0.5) -> LoadResult {
    LoadResult(
        messages: messages, bytes: messages * 64, seconds: 1, latency: LatencyPercentiles(p50: 100, p99: 200, p999: 300),
        errors: errors, connections: 64, loadCPUSeconds: 0.25, serverCPUSeconds: serverCPU)
}

func record(_ round: Int, _ server: String, _ messages: Int?, workload: String = "echo") -> RunRecord {
    RunRecord(
        round: round, workload: workload, server: server, result: messages.map { result($0) },
        error: messages == nil ? "server \"\(server)\" exited with status 1" : nil)
}

let echoWorkload = BenchWorkload(name: "echo", workload: .echo(connections: 64, size: 64, pipeline: 1))

@Suite("torsion bench summaries and reports")
struct BenchReportTests {
    @Test("the median round is the middle rate, with the min and max of the rounds")
    func medianOfOdd() {
        let records = [record(1, "poll", 300), record(2, "poll", 100), record(3, "poll", 200), record(1, "epoll", 999)]
        let summary = BenchSummary.summarize(workload: echoWorkload, server: "poll", records: records)
        #expect(summary.median == result(200))
        #expect(summary.minRate == 100 && summary.maxRate == 300)
        #expect(summary.rounds == 3 && summary.failures.isEmpty)
    }

    @Test("with an even number of rounds the lower median is taken, a round that really happened")
    func medianOfEven() {
        let records = [record(1, "poll", 400), record(2, "poll", 100), record(3, "poll", 300), record(4, "poll", 200)]
        #expect(BenchSummary.summarize(workload: echoWorkload, server: "poll", records: records).median == result(200))
    }

    @Test("failed rounds are left out of the median and listed; all failed means no median")
    func failures() {
        let some = BenchSummary.summarize(
            workload: echoWorkload, server: "poll", records: [record(1, "poll", nil), record(2, "poll", 50)])
        #expect(some.median == result(50) && some.rounds == 1)
        #expect(some.failures == ["server \"poll\" exited with status 1"])
        let none = BenchSummary.summarize(workload: echoWorkload, server: "poll", records: [record(1, "poll", nil)])
        #expect(none.median == nil && none.minRate == nil && none.maxRate == nil)
    }

    @Test("the ratio to epoll divides by epoll's median on the same workload only")
    func ratioToEpoll() throws {
        var plan = try makePlan(backends: "epoll,poll", workloads: "echo,connect", rounds: 1)
        plan.servers.append(.peer(name: "c", command: "x"))
        let records = [
            record(1, "epoll", 200), record(1, "poll", 100), record(1, "c", 300),
            record(1, "epoll", 10, workload: "connect"), record(1, "poll", 30, workload: "connect"),
            record(1, "c", nil, workload: "connect"),
        ]
        let summaries = BenchSummary.summarize(plan: plan, records: records)
        #expect(summaries.map(\.server) == ["epoll", "poll", "c", "epoll", "poll", "c"])
        #expect(summaries.map(\.ratioToEpoll) == [1, 0.5, 1.5, 1, 3, nil])
    }

    @Test("the paired ratio is the median of the per-round ratios, and skips rounds either side failed")
    func pairedRatio() throws {
        let plan = try makePlan(backends: "epoll,poll", workloads: "echo", rounds: 4)
        // The machine drifts: epoll's round 2 is fast, poll's is slow. Per
        // round poll/epoll is 1.2, 0.5, 1.3; round 4 has no epoll result.
        let records = [
            record(1, "epoll", 100), record(1, "poll", 120),
            record(2, "epoll", 300), record(2, "poll", 150),
            record(3, "epoll", 200), record(3, "poll", 260),
            record(4, "epoll", nil), record(4, "poll", 999),
        ]
        let summaries = BenchSummary.summarize(plan: plan, records: records)
        let poll = try #require(summaries.first { $0.server == "poll" })
        #expect(abs((poll.pairedRatioToEpoll ?? 0) - 1.2) < 1e-9)
        // The ratio of medians tells another story: poll's lower median
        // of four rounds (150) over epoll's median of three (200).
        #expect(abs((poll.ratioToEpoll ?? 0) - 0.75) < 1e-9)
        #expect(summaries.first { $0.server == "epoll" }?.pairedRatioToEpoll == 1)
        #expect(BenchSummary.median([]) == nil && BenchSummary.median([3, 1]) == 2 && BenchSummary.median([5, 1, 3]) == 3)
    }

    @Test("a server that is 1.25× epoll in every round has the interval 1.25...1.25, however the machine drifts")
    func intervalOfAConstantRatio() throws {
        let plan = try makePlan(backends: "epoll,poll", workloads: "echo", rounds: 5)
        let epollRates = [100, 180, 120, 90, 160]
        let records = epollRates.enumerated().flatMap { index, rate in
            [record(index + 1, "epoll", rate * 4), record(index + 1, "poll", rate * 5)]
        }
        let summaries = BenchSummary.summarize(plan: plan, records: records)
        let poll = try #require(summaries.first { $0.server == "poll" }?.ratioToEpollInterval)
        #expect(abs(poll.lowerBound - 1.25) < 1e-9 && abs(poll.upperBound - 1.25) < 1e-9)
        #expect(summaries.first { $0.server == "epoll" }?.ratioToEpollInterval == 1...1)
    }

    @Test("rates that cross from round to round give an interval around the ratio that holds 1, the same every time")
    func intervalOfNoisyRounds() throws {
        let plan = try makePlan(backends: "epoll,io_uring", workloads: "echo", rounds: 10)
        // Like io_uring against epoll at 1000 connections on a shared
        // machine: a few percent apart, 10–20 % from round to round.
        let epollRates = [146, 136, 165, 162, 110, 137, 141, 139, 148, 142]
        let uringRates = [125, 113, 137, 164, 95, 140, 156, 163, 133, 164]
        let records = (0..<10).flatMap { index in
            [
                record(index + 1, "epoll", epollRates[index] * 1000),
                record(index + 1, "io_uring", uringRates[index] * 1000),
            ]
        }
        let summaries = BenchSummary.summarize(plan: plan, records: records)
        let uring = try #require(summaries.first { $0.server == "io_uring" })
        let interval = try #require(uring.ratioToEpollInterval)
        let ratio = try #require(uring.ratioToEpoll)
        #expect(interval.contains(ratio) && interval.contains(1))
        #expect(interval.lowerBound < 0.97 && interval.upperBound > 1.03)
        #expect(BenchSummary.summarize(plan: plan, records: records) == summaries)
    }

    @Test("with fewer than three successful rounds on either side there is no interval")
    func intervalNeedsThreeRounds() throws {
        let plan = try makePlan(backends: "epoll,poll", workloads: "echo", rounds: 3)
        let records = [
            record(1, "epoll", 100), record(1, "poll", 110), record(2, "epoll", 120), record(2, "poll", 130),
            record(3, "epoll", 110), record(3, "poll", nil),
        ]
        let summaries = BenchSummary.summarize(plan: plan, records: records)
        #expect(summaries.first { $0.server == "poll" }?.ratioToEpollInterval == nil)
        #expect(summaries.first { $0.server == "poll" }?.ratioToEpoll != nil)
        #expect(summaries.first { $0.server == "epoll" }?.ratioToEpollInterval == 1...1)
    }

    @Test("without epoll in the run there is no ratio")
    func noEpoll() throws {
        let plan = try makePlan(backends: "poll", workloads: "echo", rounds: 1)
        let summaries = BenchSummary.summarize(plan: plan, records: [record(1, "poll", 100)])
        #expect(summaries.map(\.ratioToEpoll) == [nil])
        #expect(summaries.map(\.pairedRatioToEpoll) == [nil])
        #expect(summaries.map(\.ratioToEpollInterval) == [nil])
    }

    @Test("bench.json decodes back to the same report, raw rounds and summaries included")
    func jsonRoundTrip() throws {
        var plan = try makePlan(backends: "epoll", workloads: "echo", peers: ["q=\"quoted\" <cmd>"], rounds: 2)
        plan.serverCPU = nil
        let runs = [record(1, "epoll", 100), record(1, "q", nil), record(2, "epoll", 120), record(2, "q", 90)]
        var report = BenchReport(plan: plan, machine: MachineInfo(cpus: 2, kernel: "6.1.0", architecture: "x86_64"), runs: runs)
        report.runs[0].result?.serverCPUSeconds = nil
        let decoded = try BenchReport.decode(try report.json())
        #expect(decoded == report)
        #expect(decoded.summaries.count == 2)
        let object = try JSONSerialization.jsonObject(with: try report.json()) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == ["settings", "machine", "runs", "summaries"])
    }

    @Test("the machine is described by its CPU count and kernel release")
    func machine() {
        let machine = MachineInfo.current
        #expect(machine.cpus >= 1)
        #expect(!machine.kernel.isEmpty && !machine.architecture.isEmpty)
    }

    @Test("the table has a header, one row per server and workload, FAILED rows and the failure reasons")
    func table() throws {
        let plan = try makePlan(backends: "epoll,poll", workloads: "echo,connect", rounds: 1)
        let runs = [
            record(1, "epoll", 123_456), record(1, "poll", 61_728),
            record(1, "epoll", 10, workload: "connect"), record(1, "poll", nil, workload: "connect"),
        ]
        let lines = BenchReport(plan: plan, machine: .current, runs: runs).table.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "median of 1 round per server and workload")
        #expect(lines[1].hasPrefix("workload") && lines[1].hasSuffix("vs epoll  paired  90% interval"))
        let epollRow = try #require(lines.first { $0.hasPrefix("echo 64×64B") && $0.contains("epoll") })
        #expect(epollRow.contains("123,456") && epollRow.contains("123,456..123,456") && epollRow.hasSuffix("1.00×   1.00×             -"))
        #expect(epollRow.contains(" 7.9 "))  // 123,456 × 64 B in one second
        let pollRow = try #require(lines.first { $0.hasPrefix("echo 64×64B") && $0.split(separator: " ").contains("poll") })
        #expect(pollRow.hasSuffix("0.50×   0.50×             -"))
        let failedRow = try #require(lines.first { $0.hasPrefix("connect 16") && $0.split(separator: " ").contains("poll") })
        #expect(failedRow.contains("FAILED"))
        #expect(lines.contains("poll connect: server \"poll\" exited with status 1"))
        #expect(lines.contains(""))  // a blank line between workloads
    }

    @Test("numbers are grouped by thousands and fixed to the requested decimals")
    func formatting() {
        #expect(BenchTable.integer(0) == "0")
        #expect(BenchTable.integer(999.6) == "1,000")
        #expect(BenchTable.integer(1_234_567) == "1,234,567")
        #expect(BenchTable.integer(.infinity) == "-")
        #expect(BenchTable.fixed(2.345, 1) == "2.3")
    }

    @Test("write(to:) creates the directory with bench.json and one chart per workload")
    func writeFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)/out").path
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let plan = try makePlan(backends: "epoll", workloads: "echo,stream", rounds: 1)
        let report = BenchReport(plan: plan, machine: .current, runs: [record(1, "epoll", 5), record(1, "epoll", 6, workload: "stream")])
        let written = try report.write(to: directory)
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["bench.json", "bench-echo.svg", "bench-stream.svg"])
        #expect(try BenchReport.decode(Data(contentsOf: URL(fileURLWithPath: written[0]))) == report)
    }
}
