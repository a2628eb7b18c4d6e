import CTorsionPosix
import Glibc

/// The phases of a load run, in order; reported to the progress callback.
public enum LoadPhase: String, Sendable {
    /// Opening every connection and completing one round trip on each.
    case connecting
    /// Load that is not counted, so caches and buffers settle.
    case warmup
    /// The window: completed messages count.
    case measuring
    /// No new messages; waiting (at most 3 s) for the bytes in flight.
    case draining
}

/// Why a load run could not produce a result. Failures of single
/// connections during a run are not errors of the run: they are counted
/// in `LoadResult.errors`.
public struct LoadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The broad cause, for callers that react differently.
    public enum Kind: Sendable, Equatable {
        /// A connection was refused (or the address is not usable) while
        /// the run was connecting: no server listens there.
        case cannotConnect
        /// Not every connection completed its first round trip within
        /// `LoadSpec.readyTimeout`.
        case notReady
        /// A system resource or call failed (descriptor limit, epoll), or
        /// the spec asks for something out of range.
        case system
    }

    /// The broad cause.
    public let kind: Kind
    /// A sentence for people, naming the address, limit or call involved.
    public let message: String
    /// The message.
    public var description: String { message }

    /// Describes a failure.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// The client side of `torsion bench`: drives an echo server with one
/// workload and measures what completes.
///
/// It runs on the calling thread with its own non-blocking sockets and its
/// own epoll instance, and never uses Torsion's reactor, engines or
/// pollers, so the backend under test cannot shape the load. Every byte
/// read back is checked against the byte sent at that offset.
public enum LoadGenerator {
    /// Seconds the drain waits for the bytes in flight before counting the
    /// connections still missing some as errors.
    public static let drainTimeout = 3.0

    /// The largest message or chunk size accepted (64 MiB).
    public static let maxMessageSize = 64 << 20
    /// The largest pipeline depth accepted; each connection keeps one
    /// queue time per message in flight.
    public static let maxPipeline = 65_536
    /// The largest number of connections (or `connect` clients) accepted.
    public static let maxConnections = 1_000_000
    /// Chunks a `stream` connection keeps in flight at most.
    public static let streamChunksInFlight = 4

    /// Runs `spec` on the calling thread (blocking it for about
    /// `warmup + duration` seconds plus the ready phase and drain) and
    /// returns what it measured.
    ///
    /// `progress` is called on the calling thread at each phase's start
    /// and about once a second, with the phase, the seconds since the run
    /// started and the messages completed since the run started.
    ///
    /// Throws `.cannotConnect` when a connection is refused before the run
    /// is ready, `.notReady` when the ready phase times out, `.system` for
    /// a descriptor limit, a failed system call or an out-of-range spec.
    public static func run(
        _ spec: LoadSpec, progress: ((LoadPhase, Double, Int) -> Void)? = nil
    ) throws(LoadError) -> LoadResult {
        try run(spec, drainTimeout: drainTimeout, progress: progress)
    }

    /// `run(_:progress:)` with another drain timeout, so tests of the
    /// drain need not wait the full 3 s.
    static func run(
        _ spec: LoadSpec, drainTimeout: Double, progress: ((LoadPhase, Double, Int) -> Void)?
    ) throws(LoadError) -> LoadResult {
        let run = try LoadRun(spec: spec, drainTimeout: drainTimeout, progress: progress)
        defer { run.closeAll() }
        return try run.execute()
    }
}

/// One run's state and loop. Load generator thread only.
final class LoadRun {
    enum Mode {
        /// Closed loop of `pipeline` messages of `size` bytes (echo, stream).
        case stream
        /// Connect, one byte back, close, again.
        case churn
    }

    let spec: LoadSpec
    let drainTimeout: Double
    let progress: ((LoadPhase, Double, Int) -> Void)?
    let mode: Mode
    let size: Int
    let pipeline: Int
    let pattern = LoadPattern()
    let connections: [LoadConnection]
    let epollFD: Int32
    let events: UnsafeMutablePointer<epoll_event>
    let eventCapacity: Int32 = 256
    let readBuffer: UnsafeMutableRawPointer
    var address = sockaddr_storage()
    var addressLength: socklen_t = 0

    var histogram = Histogram()
    var phase = LoadPhase.connecting
    /// Whether completed messages are replaced by new ones (false in the drain).
    var sending = true
    /// Connections neither ready nor failed.
    var notReady: Int
    var established = 0
    var errors = 0
    var totalMessages = 0
    var windowMessages = 0
    var windowBytes = 0

    init(spec: LoadSpec, drainTimeout: Double, progress: ((LoadPhase, Double, Int) -> Void)?) throws(LoadError) {
        self.spec = spec
        self.drainTimeout = drainTimeout
        self.progress = progress
        let count: Int
        switch spec.workload {
        case .echo(let connections, let size, let pipeline):
            (mode, count, self.size, self.pipeline) = (.stream, connections, size, pipeline)
        case .stream(let connections, let size):
            (mode, count, self.size, self.pipeline) = (.stream, connections, size, LoadGenerator.streamChunksInFlight)
        case .connect(let concurrency):
            (mode, count, self.size, self.pipeline) = (.churn, concurrency, 1, 1)
        }
        guard (1...LoadGenerator.maxConnections).contains(count), (1...LoadGenerator.maxMessageSize).contains(size),
            (1...LoadGenerator.maxPipeline).contains(pipeline)
        else {
            throw LoadError(
                .system,
                "workload \(spec.workload.label) out of range: 1...\(LoadGenerator.maxConnections) connections, 1...\(LoadGenerator.maxMessageSize) bytes, pipeline 1...\(LoadGenerator.maxPipeline)"
            )
        }
        guard spec.duration >= 0, spec.warmup >= 0, spec.readyTimeout > 0, spec.duration.isFinite,
            spec.warmup.isFinite, spec.readyTimeout.isFinite
        else {
            throw LoadError(.system, "durations must be finite and not negative (ready timeout positive)")
        }
        // The epoll instance and a few spare descriptors besides the sockets.
        try LoadSystem.ensureDescriptors(count + 16)
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else {
            throw LoadError(.system, "epoll_create1 failed: \(errnoText(errno))")
        }
        notReady = count
        let pipeline = self.pipeline
        connections = (0..<count).map { LoadConnection(index: $0, pipeline: pipeline) }
        events = .allocate(capacity: Int(eventCapacity))
        readBuffer = .allocate(byteCount: LoadPattern.maxChunk, alignment: 16)
        guard resolve(spec.host, spec.port) else {
            throw LoadError(.cannotConnect, "cannot connect to \(spec.host):\(spec.port): not an IPv4 or IPv6 address")
        }
    }

    deinit {
        events.deallocate()
        readBuffer.deallocate()
        close(epollFD)
    }

    /// Fills `address` from an IPv4 or IPv6 literal.
    private func resolve(_ host: String, _ port: UInt16) -> Bool {
        var ipv4 = sockaddr_in()
        if inet_pton(AF_INET, host, &ipv4.sin_addr) == 1 {
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = port.bigEndian
            store(ipv4)
            return true
        }
        var ipv6 = sockaddr_in6()
        guard inet_pton(AF_INET6, host, &ipv6.sin6_addr) == 1 else { return false }
        ipv6.sin6_family = sa_family_t(AF_INET6)
        ipv6.sin6_port = port.bigEndian
        store(ipv6)
        return true
    }

    /// Copies a family-specific socket address into `address`.
    private func store<Address>(_ specific: Address) {
        withUnsafeMutableBytes(of: &address) { $0.storeBytes(of: specific, as: Address.self) }
        addressLength = socklen_t(MemoryLayout<Address>.size)
    }

    func closeAll() {
        for connection in connections where connection.fd >= 0 {
            close(connection.fd)
            connection.fd = -1
        }
    }

    // MARK: - The loop

    func execute() throws(LoadError) -> LoadResult {
        let start = LoadSystem.now()
        var deadline = start &+ nanoseconds(spec.readyTimeout)
        var nextReport = start
        var windowStart: UInt64 = 0
        var windowEnd: UInt64 = 0
        var cpuAtStart = 0.0
        var loadCPU = 0.0
        var serverAtStart: Double?
        var serverCPU: Double?
        report(start, start)
        for connection in connections { try startConnecting(connection, now: start) }
        while true {
            let now = LoadSystem.now()
            switch phase {
            case .connecting:
                if notReady == 0 {
                    phase = .warmup
                    deadline = now &+ nanoseconds(spec.warmup)
                    report(start, now)
                    continue
                }
                if now >= deadline {
                    throw LoadError(
                        .notReady,
                        "not ready: \(notReady) of \(connections.count) connections to \(spec.host):\(spec.port) had not completed a round trip within \(spec.readyTimeout) s"
                    )
                }
            case .warmup:
                if now >= deadline {
                    phase = .measuring
                    cpuAtStart = LoadSystem.threadCPUSeconds()
                    serverAtStart = spec.serverPID.flatMap { processCPUSeconds(pid: $0) }
                    windowStart = LoadSystem.now()
                    deadline = windowStart &+ nanoseconds(spec.duration)
                    report(start, now)
                    continue
                }
            case .measuring:
                if now >= deadline {
                    windowEnd = now
                    loadCPU = LoadSystem.threadCPUSeconds() - cpuAtStart
                    if let serverAtStart, let pid = spec.serverPID, let end = processCPUSeconds(pid: pid) {
                        serverCPU = end - serverAtStart
                    }
                    phase = .draining
                    sending = false
                    deadline = now &+ nanoseconds(drainTimeout)
                    report(start, now)
                    continue
                }
            case .draining:
                // Bytes still missing after the drain: the server lost them.
                if now >= deadline {
                    for connection in connections where connection.outstanding { fail(connection) }
                }
            }
            if phase == .draining && !connections.contains(where: \.outstanding) { break }
            if now >= nextReport {
                if nextReport != start { report(start, now) }
                nextReport = now &+ 1_000_000_000
            }
            let wake = min(deadline, nextReport)
            // Round up so the loop does not spin on a sub-millisecond rest.
            let timeout = wake > now ? Int32(min((wake - now + 999_999) / 1_000_000, 1000)) : 0
            let count = epoll_wait(epollFD, events, eventCapacity, timeout)
            if count < 0 {
                if errno == EINTR { continue }
                throw LoadError(.system, "epoll_wait failed: \(errnoText(errno))")
            }
            for slot in 0..<Int(count) {
                let event = events[slot]
                let index = Int(UInt32(truncatingIfNeeded: event.data.u64))
                let generation = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
                guard index < connections.count else { continue }
                let connection = connections[index]
                guard connection.generation == generation, connection.fd >= 0 else { continue }
                try handle(connection, events: event.events)
            }
        }
        let measured = windowEnd > windowStart ? Double(windowEnd - windowStart) / 1e9 : 0
        let latency = LatencyPercentiles(
            p50: histogram.percentile(0.5) / 1000, p99: histogram.percentile(0.99) / 1000,
            p999: histogram.percentile(0.999) / 1000)
        return LoadResult(
            messages: windowMessages, bytes: windowBytes, seconds: measured, latency: latency, errors: errors,
            connections: mode == .churn ? connections.count : established, loadCPUSeconds: loadCPU,
            serverCPUSeconds: serverCPU)
    }

    private func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }

    private func report(_ start: UInt64, _ now: UInt64) {
        progress?(phase, Double(now - start) / 1e9, totalMessages)
    }

    // MARK: - Connections

    /// Opens a non-blocking socket and starts connecting it.
    private func startConnecting(_ connection: LoadConnection, now: UInt64) throws(LoadError) {
        let family = Int32(address.ss_family)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let code = errno
            if code == EMFILE || code == ENFILE {
                throw LoadError(.system, "socket failed: \(errnoText(code)); raise the descriptor limit (ulimit -n)")
            }
            fail(connection)
            return
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        connection.fd = fd
        connection.generation &+= 1
        connection.state = .connecting
        connection.connectStart = now
        (connection.sent, connection.received, connection.queued, connection.completed) = (0, 0, 0, 0)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, addressLength) }
        }
        if result < 0 && errno != EINPROGRESS {
            try connectFailed(connection, code: errno)
            return
        }
        var event = epoll_event()
        event.events = EPOLLOUT.rawValue
        event.data.u64 = connection.token
        connection.watchingWrites = true
        if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) != 0 {
            throw LoadError(.system, "epoll_ctl(ADD) failed: \(errnoText(errno))")
        }
    }

    /// A connect that failed: fatal for the run while connecting, one
    /// error later.
    private func connectFailed(_ connection: LoadConnection, code: Int32) throws(LoadError) {
        if phase == .connecting && !connection.ready {
            throw LoadError(.cannotConnect, "cannot connect to \(spec.host):\(spec.port): \(errnoText(code))")
        }
        fail(connection)
    }

    /// Counts `connection` once in `errors` and closes it for good.
    private func fail(_ connection: LoadConnection) {
        guard connection.state != .failed else { return }
        if connection.fd >= 0 { close(connection.fd) }
        connection.fd = -1
        connection.state = .failed
        errors += 1
        if !connection.ready { notReady -= 1 }
    }

    private func watchWrites(_ connection: LoadConnection, _ watch: Bool) {
        guard connection.watchingWrites != watch else { return }
        var event = epoll_event()
        event.events = watch ? EPOLLIN.rawValue | EPOLLOUT.rawValue : EPOLLIN.rawValue
        event.data.u64 = connection.token
        if epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event) == 0 {
            connection.watchingWrites = watch
        } else {
            fail(connection)
        }
    }

    // MARK: - The hot path

    private func handle(_ connection: LoadConnection, events flags: UInt32) throws(LoadError) {
        if connection.state == .connecting {
            try finishConnecting(connection)
            return
        }
        if flags & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            readOnce(connection)
        }
        if connection.state == .open && connection.watchingWrites && flags & EPOLLOUT.rawValue != 0 {
            flush(connection)
        }
    }

    private func finishConnecting(_ connection: LoadConnection) throws(LoadError) {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { code = errno }
        if code != 0 {
            try connectFailed(connection, code: code)
            return
        }
        if !connection.ready && mode == .stream { established += 1 }
        connection.state = .open
        watchWrites(connection, false)
        guard connection.state == .open else { return }
        // The whole pipeline is queued at once; for `connect` the latency
        // runs from the start of the connect.
        let queuedAt = mode == .churn ? connection.connectStart : LoadSystem.now()
        for slot in 0..<pipeline { connection.queueTimes[slot] = queuedAt }
        connection.queued = pipeline * size
        flush(connection)
    }

    /// Writes as much of the queued bytes as the socket takes, straight
    /// from the payload table.
    private func flush(_ connection: LoadConnection) {
        while connection.sent < connection.queued {
            let position = LoadPattern.position(shift: connection.shift, offset: connection.base + connection.sent)
            let length = min(connection.queued - connection.sent, LoadPattern.maxChunk)
            let written = send(connection.fd, pattern.bytes + position, length, Int32(MSG_NOSIGNAL))
            if written > 0 {
                connection.sent += written
                if written < length { break }
                continue
            }
            if written < 0 && (errno == EINTR) { continue }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            fail(connection)
            return
        }
        watchWrites(connection, connection.sent < connection.queued)
    }

    /// One big read, checked byte for byte, then completions and the next
    /// messages.
    private func readOnce(_ connection: LoadConnection) {
        let count = recv(connection.fd, readBuffer, LoadPattern.maxChunk, 0)
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            fail(connection)
            return
        }
        // End of file, or more bytes than were sent: the server broke the echo.
        guard count > 0, connection.received + count <= connection.sent else {
            fail(connection)
            return
        }
        let position = LoadPattern.position(shift: connection.shift, offset: connection.base + connection.received)
        guard memcmp(readBuffer, pattern.bytes + position, count) == 0 else {
            fail(connection)
            return
        }
        connection.received += count
        var boundary = (connection.completed + 1) * size
        guard connection.received >= boundary else { return }
        let now = LoadSystem.now()
        let measuring = phase == .measuring
        repeat {
            let slot = connection.completed % pipeline
            if measuring {
                histogram.record(now &- connection.queueTimes[slot])
                windowMessages += 1
                windowBytes += size
            }
            totalMessages += 1
            connection.completed += 1
            if !connection.ready {
                connection.ready = true
                notReady -= 1
            }
            if sending && mode == .stream {
                connection.queueTimes[slot] = now
                connection.queued += size
            }
            boundary += size
        } while connection.received >= boundary
        if mode == .churn {
            finishCycle(connection, now: now)
        } else if connection.sent < connection.queued && !connection.watchingWrites {
            flush(connection)
        }
    }

    /// A `connect` cycle came back whole: close, and start the next one.
    private func finishCycle(_ connection: LoadConnection, now: UInt64) {
        close(connection.fd)
        connection.fd = -1
        connection.state = .idle
        connection.watchingWrites = false
        connection.base += 1
        guard sending else { return }
        // The connection is ready, so a refusal is one error, not fatal;
        // a system failure (no descriptor left) is one error too.
        do {
            try startConnecting(connection, now: now)
        } catch {
            fail(connection)
        }
    }
}
