import Testing
import TorsionBench
import TorsionPosix

/// `BenchPlan.make` with the command line's defaults, any of them replaced.
func makePlan(
    backends: String? = "epoll", workloads: String? = nil, peers: [String] = [], rounds: Int = 3,
    duration: Double = 5, warmup: Double = 1, connections: Int = 64, size: Int = 64, pipeline: Int = 1,
    serverCPU: Int? = nil, loadCPU: Int? = nil, cpuCount: Int = 2
) throws(BenchOptionError) -> BenchPlan {
    try BenchPlan.make(
        backends: backends, workloads: workloads, peers: peers, rounds: rounds, duration: duration, warmup: warmup,
        connections: connections, size: size, pipeline: pipeline, serverCPU: serverCPU, loadCPU: loadCPU,
        torsionPath: "/bin/true", cpuCount: cpuCount)
}

/// The message of the error `body` throws, `nil` if it throws none.
func optionError(_ body: () throws(BenchOptionError) -> BenchPlan) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.message
    }
}

@Suite("torsion bench options")
struct BenchPlanTests {
    @Test("defaults: every available backend, the four workloads in order, servers on CPU 0 and load on CPU 1")
    func defaults() throws {
        let plan = try makePlan(backends: nil)
        #expect(plan.servers == Backend.available.map(BenchServer.torsion))
        #expect(plan.workloads.map(\.name) == ["echo", "echo1000", "stream", "connect"])
        #expect(
            plan.workloads.map(\.workload) == [
                .echo(connections: 64, size: 64, pipeline: 1), .echo(connections: 1000, size: 64, pipeline: 1),
                .stream(connections: 1, size: 65536), .connect(concurrency: 16),
            ])
        #expect(plan.serverCPU == 0 && plan.loadCPU == 1)
        #expect(plan.rounds == 3 && plan.duration == 5 && plan.warmup == 1)
        #expect(plan.runCount == 3 * 4 * Backend.available.count)
    }

    @Test("the echo shape follows --connections, --size and --pipeline; echo1000 takes only the size")
    func echoShape() throws {
        let plan = try makePlan(workloads: "echo1000,echo", connections: 8, size: 512, pipeline: 4)
        #expect(plan.workloads.map(\.workload) == [
            .echo(connections: 1000, size: 512, pipeline: 1), .echo(connections: 8, size: 512, pipeline: 4),
        ])
    }

    @Test("rounds vary the order: each even round reverses the round before, and every server takes every place")
    func roundOrder() throws {
        let plan = try makePlan(backends: "epoll,poll,select", peers: ["c=srv", "d=srv"], rounds: 10)
        let names = plan.servers.map(\.name)
        let orders = (1...plan.rounds).map { plan.servers(inRound: $0).map(\.name) }
        #expect(orders[0] == names)
        #expect(orders[1] == names.reversed())
        #expect(orders[2] == ["poll", "select", "c", "d", "epoll"])
        for round in stride(from: 0, to: orders.count, by: 2) {
            #expect(orders[round + 1] == orders[round].reversed())
        }
        // Over twice as many rounds as servers, each place exactly twice.
        for name in names {
            let places = orders.compactMap { $0.firstIndex(of: name) }
            #expect(places.sorted() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], "\(name): \(places)")
        }
    }

    @Test("backends come first in the order given, then peers; spaces around names are ignored")
    func serverOrder() throws {
        let plan = try makePlan(backends: "poll, epoll", peers: ["c=./c_epoll_echo {port}"])
        #expect(plan.servers.map(\.name) == ["poll", "epoll", "c"])
        #expect(plan.servers[2].kind == .peer(command: "./c_epoll_echo {port}"))
    }

    @Test("a single CPU pins nothing and refuses CPU options; CPUs can be swapped")
    func cpus() throws {
        let single = try makePlan(cpuCount: 1)
        #expect(single.serverCPU == nil && single.loadCPU == nil)
        #expect(optionError { () throws(BenchOptionError) in try makePlan(serverCPU: 0, cpuCount: 1) }?.contains("one CPU") == true)
        let swapped = try makePlan(loadCPU: 0, cpuCount: 4)
        #expect(swapped.serverCPU == 1 && swapped.loadCPU == 0)
        let chosen = try makePlan(serverCPU: 3, cpuCount: 4)
        #expect(chosen.serverCPU == 3 && chosen.loadCPU == 1)
    }

    @Test(
        "bad values are refused with a message naming the option",
        arguments: [
            (["rounds": "0"], "--rounds: must be 1 to 1000, got 0"),
            (["connections": "0"], "--connections: must be 1 to 10000, got 0"),
            (["connections": "10001"], "--connections: must be 1 to 10000, got 10001"),
            (["size": "0"], "--size: must be 1 to 1048576, got 0"),
            (["pipeline": "2000"], "--pipeline: must be 1 to 1024, got 2000"),
            (["duration": "0"], "--duration: must be more than 0"),
            (["duration": "nan"], "--duration: must be more than 0"),
            (["warmup": "-1"], "--warmup: must be 0 to 3600 seconds"),
            (["workloads": "echo,pingpong"], "--workloads: unknown workload \"pingpong\"; choose from echo, echo1000, stream, connect"),
            (["workloads": "echo,,stream"], "--workloads: expected a comma-separated list"),
            (["workloads": "echo,echo"], "--workloads: \"echo\" is named twice"),
            (["backends": "epoll,epoll"], "server \"epoll\" is named twice"),
            (["backends": "kqueue"], "--backends: unknown reactor backend \"kqueue\"; choose one of:\nselect"),
            (["serverCPU": "2"], "--server-cpu: must be 0 to 1, got 2"),
            (["loadCPU": "-1"], "--load-cpu: must be 0 to 1, got -1"),
            (["serverCPU": "1", "loadCPU": "1"], "--server-cpu and --load-cpu are both 1"),
        ])
    func badValues(_ change: [String: String], _ expected: String) {
        let message = optionError { () throws(BenchOptionError) in
            try makePlan(
                backends: change["backends"] ?? "epoll", workloads: change["workloads"],
                rounds: change["rounds"].flatMap { Int($0) } ?? 3,
                duration: change["duration"].flatMap { Double($0) } ?? 5,
                warmup: change["warmup"].flatMap { Double($0) } ?? 1,
                connections: change["connections"].flatMap { Int($0) } ?? 64,
                size: change["size"].flatMap { Int($0) } ?? 64,
                pipeline: change["pipeline"].flatMap { Int($0) } ?? 1,
                serverCPU: change["serverCPU"].flatMap { Int($0) }, loadCPU: change["loadCPU"].flatMap { Int($0) })
        }
        #expect(message?.hasPrefix(expected) == true, "got \(message ?? "no error")")
    }

    @Test(
        "bad --peer values are refused",
        arguments: [
            ("nocommand", "--peer: expected NAME=COMMAND"),
            ("=cmd", "--peer: the name \"\" must be"),
            ("a b=cmd", "--peer: the name \"a b\" must be"),
            ("epoll=cmd", "--peer: \"epoll\" is a backend's name"),
            ("x=  ", "--peer x: the command is empty"),
        ])
    func badPeers(_ value: String, _ expected: String) {
        let message = optionError { () throws(BenchOptionError) in try makePlan(peers: [value]) }
        #expect(message?.hasPrefix(expected) == true, "got \(message ?? "no error")")
    }

    @Test("two peers with one name are refused")
    func duplicatePeer() {
        #expect(optionError { () throws(BenchOptionError) in try makePlan(peers: ["a=x", "a=y"]) } == "server \"a\" is named twice")
    }

    @Test("a peer command gets the port for {port}, or appended when it has none; '=' may appear in the command")
    func peerCommand() throws {
        #expect(BenchServer.peerCommand("srv -p {port} --again {port}", port: 4000) == "srv -p 4000 --again 4000")
        #expect(BenchServer.peerCommand("./c_epoll_echo", port: 4000) == "./c_epoll_echo 4000")
        #expect(try BenchServer.parsePeer("n=env A=1 srv") == .peer(name: "n", command: "env A=1 srv"))
    }

    @Test("Torsion's server listens on loopback with the reference servers' listen queue of 4096")
    func torsionArguments() {
        #expect(BenchServer.listenBacklog == 4096)
        #expect(BenchServer.torsionArguments(torsionPath: "/t", backend: "poll", port: 4000) == [
            "/t", "echo", "--reactor", "poll", "--listen", "tcp:4000:interface=127.0.0.1:backlog=4096",
        ])
    }
}
