import Foundation
import Testing
import Torsion
import TorsionBench
import TorsionTool

/// The processes whose process group is `group` (read from /proc).
func processGroup(_ group: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[2]) == group
    }
}

/// The processes whose command line contains `text`.
func processes(withCommandLineContaining text: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(text)
    }
}

/// The pid in a progress line `... listening on 127.0.0.1:PORT (pid N)`.
func serverPID(in line: String) -> Int32? {
    guard line.contains("listening on"), let open = line.range(of: "(pid "), line.hasSuffix(")") else { return nil }
    return Int32(line[open.upperBound...].dropLast())
}

@Suite("torsion bench with real processes")
struct BenchProcessTests {
    @Test("a short run on epoll prints the table with epoll's echo row and exits 0")
    func endToEnd() throws {
        let bench = try TorsionProcess([
            "bench", "--backends", "epoll", "--workloads", "echo", "--rounds", "1", "--duration", "0.2", "--warmup", "0",
        ])
        defer { bench.killIfRunning() }
        #expect(bench.waitForExit(timeout: 60), "bench did not finish within 60 s")
        let output = bench.standardOutput()
        let errors = bench.remainingStandardError()
        #expect(bench.exitStatus == 0, "stderr: \(errors)")
        let row = output.split(separator: "\n").first { $0.hasPrefix("echo 64×64B") }
        let cells = try #require(row, "no echo row in:\n\(output)").split(separator: " ")
        #expect(cells[2] == "epoll")
        // The ratio to itself of the medians, then paired; one round is
        // too few for an interval.
        #expect(cells.suffix(3) == ["1.00×", "1.00×", "-"])
        #expect(errors.contains("round 1/1  echo  epoll  listening on 127.0.0.1:"))
    }

    @Test("with --out the run writes bench.json and the chart, and a failing peer is reported and exits 1")
    func outputAndFailingPeer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bench = try TorsionProcess([
            "bench", "--backends", "epoll", "--workloads", "connect", "--rounds", "1", "--duration", "0.2", "--warmup",
            "0", "--peer", "broken=echo cannot bind >&2; exit 7", "--out", directory,
        ])
        defer { bench.killIfRunning() }
        #expect(bench.waitForExit(timeout: 60), "bench did not finish within 60 s")
        #expect(bench.exitStatus == 1)
        let output = bench.standardOutput()
        #expect(output.contains("broken connect: server \"broken\" exited with status 7 before listening on 127.0.0.1:"))
        #expect(output.contains("its stderr ends:\n  cannot bind"))
        let report = try BenchReport.decode(Data(contentsOf: URL(fileURLWithPath: directory + "/bench.json")))
        #expect(report.runs.map(\.server) == ["epoll", "broken"])
        #expect(report.runs[0].result != nil && report.runs[1].result == nil)
        #expect(FileManager.default.fileExists(atPath: directory + "/bench-connect.svg"))
    }

    @Test("SIGINT during a run stops the server, leaves no process behind and exits 130")
    func interrupt() throws {
        let bench = try TorsionProcess([
            "bench", "--backends", "epoll", "--workloads", "echo", "--rounds", "1", "--duration", "3000", "--warmup", "0",
        ])
        defer { bench.killIfRunning() }
        var server: Int32?
        while server == nil, let line = bench.standardErrorLine(timeout: 30) {
            server = serverPID(in: line)
        }
        let pid = try #require(server, "the bench never reported a listening server")
        #expect(processGroup(pid).contains(pid), "the server runs in its own process group")
        bench.send(SIGINT)
        #expect(bench.waitForExit(timeout: 30), "bench did not exit within 30 s of SIGINT")
        #expect(bench.exitStatus == 130)
        #expect(bench.remainingStandardError().contains("torsion bench: SIGINT: 0 of 1 runs done"))
        #expect(processGroup(pid).isEmpty, "processes of the server's group survived")
        #expect(childProcesses(of: bench.process.processIdentifier).isEmpty)
    }

    @Test("the launcher starts a Torsion server in its own group, pinned to the server CPU, with a 4096 listen queue; stop reaps it")
    func launchAndStop() throws {
        let cpu = onlineCPUCount() >= 2 ? 1 : nil
        let launcher = ProcessLauncher(torsionPath: try torsionExecutable().path, cpu: cpu, startTimeout: 30)
        let server = try launcher.launch(.torsion(.poll))
        let pid = try #require(server.pid)
        #expect(processGroup(pid) == [pid])
        // It started, so the endpoint parsed, with the reference servers'
        // listen queue.
        let commandLine = String(
            decoding: FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data(), as: UTF8.self)
        #expect(commandLine.contains(":backlog=\(BenchServer.listenBacklog)"), "\(commandLine)")
        if let cpu {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            #expect(status.contains("Cpus_allowed_list:\t\(cpu)\n"), "not pinned to CPU \(cpu)")
        }
        server.stop()
        server.stop()  // idempotent
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"), "not reaped")
    }

    @Test("a server that exits at once gives a clear error with its stderr, without waiting for the timeout")
    func exitsAtOnce() {
        let launcher = ProcessLauncher(torsionPath: "/nonexistent", cpu: nil, startTimeout: 600)
        #expect {
            _ = try launcher.launch(.peer(name: "quitter", command: "echo no such option >&2; exit 2"))
        } throws: { error in
            let message = (error as? ServerStartError)?.message ?? ""
            return message.hasPrefix("server \"quitter\" exited with status 2 before listening on 127.0.0.1:")
                && message.hasSuffix("its stderr ends:\n  no such option")
        }
    }

    @Test("a Torsion server that cannot start reports the tool's own error")
    func badBackendServer() {
        let launcher = ProcessLauncher(torsionPath: "/bin/false", cpu: nil, startTimeout: 600)
        #expect(throws: ServerStartError.self) { _ = try launcher.launch(.torsion(.epoll)) }
    }

    @Test("a server that never listens is stopped after the start timeout and the error says so")
    func neverListens() {
        let launcher = ProcessLauncher(torsionPath: "/nonexistent", cpu: nil, startTimeout: 0.2)
        // A shell that stays, with a child: both must go. The odd duration
        // makes both command lines unique to this test.
        let marker = "600.\(UInt32.random(in: 100_000...999_999))"
        #expect {
            _ = try launcher.launch(.peer(name: "mute", command: "sleep \(marker); true"))
        } throws: { error in
            ((error as? ServerStartError)?.message ?? "").contains("server \"mute\" did not listen on 127.0.0.1:")
        }
        #expect(processes(withCommandLineContaining: marker).isEmpty, "the silent server survived")
    }
}
