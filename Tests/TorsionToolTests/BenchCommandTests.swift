import ArgumentParser
import Testing
import Torsion
import TorsionBench
import TorsionTool

@Suite("torsion bench command line")
struct BenchCommandTests {
    @Test("the defaults: three rounds of five seconds after one of warmup, 64 connections of 64 bytes, all workloads")
    func defaults() throws {
        let command = try parse(["bench"], as: BenchCommand.self)
        #expect(command.rounds == 3 && command.duration == 5 && command.warmup == 1)
        #expect(command.connections == 64 && command.size == 64 && command.pipeline == 1)
        #expect(command.backends == nil && command.workloads == nil && command.peers.isEmpty && command.out == nil)
        let plan = try command.plan()
        #expect(plan.servers.map(\.name) == Backend.available.map(\.rawValue))
        #expect(plan.workloads.map(\.name) == BenchWorkload.names)
        #expect(plan.torsionPath.hasPrefix("/"))
    }

    @Test("every option is parsed, --peer repeatedly")
    func options() throws {
        let command = try parse(
            [
                "bench", "--backends", "epoll,poll", "--rounds", "5", "--duration", "0.5", "--warmup", "0",
                "--connections", "8", "--size", "128", "--pipeline", "4", "--workloads", "echo,stream",
                "--peer", "a=srv-a {port}", "--peer", "b=srv-b", "--out", "results", "--server-cpu", "1",
                "--load-cpu", "0", "--torsion", "/bin/sh",
            ], as: BenchCommand.self)
        let plan = try command.plan()
        #expect(plan.servers.map(\.name) == ["epoll", "poll", "a", "b"])
        #expect(plan.workloads.map(\.workload) == [.echo(connections: 8, size: 128, pipeline: 4), .stream(connections: 1, size: 65536)])
        #expect(plan.rounds == 5 && plan.duration == 0.5 && plan.warmup == 0)
        #expect(plan.serverCPU == (onlineCPUCount() >= 2 ? 1 : nil))
        #expect(plan.torsionPath == "/bin/sh")
        #expect(command.out == "results")
    }

    @Test(
        "bad values are usage errors (exit 64) with a clear message",
        arguments: [
            (["--rounds", "0"], "--rounds: must be 1 to 1000, got 0"),
            (["--duration=-1"], "--duration: must be more than 0"),
            (["--connections", "lots"], "--connections"),
            (["--workloads", "echo,ping"], "unknown workload \"ping\"; choose from echo, echo1000, stream, connect"),
            (["--backends", "kqueue"], "unknown reactor backend \"kqueue\"; choose one of:\nselect"),
            (["--peer", "noequals"], "--peer: expected NAME=COMMAND"),
            (["--torsion", "/nonexistent/torsion"], "--torsion: \"/nonexistent/torsion\" is not an executable file"),
        ])
    func badValues(_ arguments: [String], _ expected: String) throws {
        let failure = try #require(usageFailure(["bench"] + arguments), "\(arguments) was accepted")
        #expect(failure.exitCode == 64)
        #expect(failure.message.contains(expected), "got: \(failure.message)")
    }

    @Test("the bench subcommand is listed in the tool's help")
    func listed() {
        #expect(TorsionCommand.helpMessage().contains("bench"))
    }
}
