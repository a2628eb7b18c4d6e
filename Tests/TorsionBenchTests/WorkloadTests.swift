import Testing
import TorsionBench

@Suite("Workload and load results")
struct WorkloadTests {
    @Test("labels name the workload and its shape; a pipeline of one is left out")
    func labels() {
        #expect(Workload.echo(connections: 64, size: 64, pipeline: 1).label == "echo 64×64B")
        #expect(Workload.echo(connections: 64, size: 64, pipeline: 8).label == "echo 64×64B×8")
        #expect(Workload.stream(connections: 1, size: 65536).label == "stream 1×65536B")
        #expect(Workload.connect(concurrency: 16).label == "connect 16")
    }

    @Test("rates derive from the window's counts; server µs per message needs the server's CPU")
    func derivedRates() {
        let latency = LatencyPercentiles(p50: 400, p99: 800, p999: 1200)
        let result = LoadResult(
            messages: 500_000, bytes: 32_000_000, seconds: 5, latency: latency, errors: 0, connections: 64,
            loadCPUSeconds: 4.5, serverCPUSeconds: 3)
        #expect(result.messagesPerSecond == 100_000)
        #expect(result.megabytesPerSecond == 6.4)
        #expect(result.serverMicrosecondsPerMessage == 6)
        #expect(result.loadCPUPercent == 90)
        var unknown = result
        unknown.serverCPUSeconds = nil
        #expect(unknown.serverMicrosecondsPerMessage == nil)
        let empty = LoadResult(
            messages: 0, bytes: 0, seconds: 0, latency: latency, errors: 0, connections: 0, loadCPUSeconds: 0,
            serverCPUSeconds: 1)
        #expect(empty.messagesPerSecond == 0 && empty.serverMicrosecondsPerMessage == nil)
    }
}
