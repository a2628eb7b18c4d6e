/// The kinds of load `torsion bench` puts on a server. Every workload runs
/// against an echo server (Torsion's own `torsion echo` or an external
/// peer), so every server in a run is driven by the same client code and
/// every byte that comes back can be checked.
public enum Workload: Sendable, Equatable, Hashable {
    /// Ping-pong: `connections` connections each keep `pipeline` messages
    /// of `size` bytes in flight and send the next one as soon as one has
    /// come back whole. One message is one round trip.
    case echo(connections: Int, size: Int, pipeline: Int)
    /// One-way bulk throughput: `connections` connections each write
    /// `size`-byte chunks as fast as the server takes them back; the rate
    /// counts payload bytes in one direction. One message is one chunk.
    case stream(connections: Int, size: Int)
    /// Connection churn: `concurrency` clients each connect, echo one
    /// byte (proof that the server accepted and served the connection),
    /// close, and start again. One message is one connection.
    case connect(concurrency: Int)

    /// A short name for tables and JSON: `echo 64×64B`, `stream 1×65536B`,
    /// `connect 16`.
    public var label: String {
        switch self {
        case .echo(let connections, let size, let pipeline):
            pipeline == 1 ? "echo \(connections)×\(size)B" : "echo \(connections)×\(size)B×\(pipeline)"
        case .stream(let connections, let size): "stream \(connections)×\(size)B"
        case .connect(let concurrency): "connect \(concurrency)"
        }
    }
}

/// What one load run should do: where the server is, which workload, and
/// for how long.
public struct LoadSpec: Sendable, Equatable {
    /// The server's address (IPv4 or IPv6 literal; loopback in every use
    /// so far).
    public var host: String
    /// The server's TCP port.
    public var port: UInt16
    /// The load to put on the server.
    public var workload: Workload
    /// Seconds of measurement: only work completed in this window counts.
    public var duration: Double
    /// Seconds of load before the window, not counted.
    public var warmup: Double
    /// The server's process id, whose CPU time (user + system, the kernel's
    /// accounting of the process as `getrusage` reports it) is read at the
    /// window's start and end; `nil` when unknown.
    public var serverPID: Int32?
    /// Seconds allowed for connecting every connection before the run
    /// fails with a "not ready" error.
    public var readyTimeout: Double

    /// Describes a run; `warmup` defaults to one second, `readyTimeout` to ten.
    public init(
        host: String = "127.0.0.1", port: UInt16, workload: Workload, duration: Double, warmup: Double = 1,
        serverPID: Int32? = nil, readyTimeout: Double = 10
    ) {
        self.host = host
        self.port = port
        self.workload = workload
        self.duration = duration
        self.warmup = warmup
        self.serverPID = serverPID
        self.readyTimeout = readyTimeout
    }
}

/// Latency percentiles of the messages completed in a window, in
/// microseconds from the moment a message was queued to the moment its
/// last byte came back.
public struct LatencyPercentiles: Sendable, Equatable, Codable {
    /// The median.
    public var p50: Double
    /// The 99th percentile.
    public var p99: Double
    /// The 99.9th percentile.
    public var p999: Double

    /// Collects three percentiles already computed.
    public init(p50: Double, p99: Double, p999: Double) {
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
    }
}

/// What one load run measured. Rates are derived, so the stored figures
/// are the raw counts of the window.
public struct LoadResult: Sendable, Equatable, Codable {
    /// Messages completed in the window (round trips, chunks or
    /// connections, as the workload defines a message).
    public var messages: Int
    /// Payload bytes that came back in the window, one direction.
    public var bytes: Int
    /// The window's measured length in seconds.
    public var seconds: Double
    /// Latency of the messages completed in the window.
    public var latency: LatencyPercentiles
    /// Connections that saw wrong bytes, an unexpected end of file or a
    /// socket error; each counts once. Non-zero means the server failed.
    public var errors: Int
    /// Connections established for the run (for `connect`, the concurrency).
    public var connections: Int
    /// CPU seconds (user + system) the load generator itself used in the window.
    public var loadCPUSeconds: Double
    /// CPU seconds (user + system) the server process used in the window;
    /// `nil` when its process id was not given or could not be read.
    public var serverCPUSeconds: Double?

    /// Collects the figures of one run.
    public init(
        messages: Int, bytes: Int, seconds: Double, latency: LatencyPercentiles, errors: Int, connections: Int,
        loadCPUSeconds: Double, serverCPUSeconds: Double?
    ) {
        self.messages = messages
        self.bytes = bytes
        self.seconds = seconds
        self.latency = latency
        self.errors = errors
        self.connections = connections
        self.loadCPUSeconds = loadCPUSeconds
        self.serverCPUSeconds = serverCPUSeconds
    }

    /// Messages per second over the window.
    public var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
    /// Payload megabytes (10^6 bytes) per second, one direction.
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / 1e6 / seconds : 0 }
    /// Server CPU microseconds per message: the figure that stays fair
    /// when the load generator, not the server, is saturated.
    public var serverMicrosecondsPerMessage: Double? {
        guard let serverCPUSeconds, messages > 0 else { return nil }
        return serverCPUSeconds * 1e6 / Double(messages)
    }
    /// The load generator's CPU use in percent of one core; near 100 means
    /// the generator, not the server, may be what limits the rate.
    public var loadCPUPercent: Double { seconds > 0 ? loadCPUSeconds / seconds * 100 : 0 }
}
