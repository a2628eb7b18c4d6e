import CTorsionPosix
import Glibc
import Synchronization
import TorsionEngine

/// A server that could not be started or did not start listening: the
/// message names the server and quotes the end of its standard error.
public struct ServerStartError: Error, CustomStringConvertible, Equatable, Sendable {
    /// e.g. `server "bad" exited with status 3 before listening on
    /// 127.0.0.1:40123; its stderr ends: boom`.
    public let message: String
    /// Wraps `message`.
    public init(_ message: String) { self.message = message }
    /// ``message``.
    public var description: String { message }
}

/// A started server under measurement: where it listens, and how to stop it.
public protocol RunningServer: Sendable {
    /// The loopback port it accepts connections on.
    var port: UInt16 { get }
    /// The process whose CPU time is the server's, when known.
    var pid: Int32? { get }
    /// Stops it and everything it started, and reaps it. Idempotent and
    /// callable from any thread (the signal handler of a run calls it too).
    func stop()
}

/// Starts the servers of a run. The runner goes through this protocol so
/// that its tests can start fake servers.
public protocol ServerLauncher: Sendable {
    /// Starts `server` and returns once it accepts connections.
    ///
    /// - Throws: ``ServerStartError`` when it cannot be started, exits, or
    ///   does not listen within the start timeout; nothing is left running.
    func launch(_ server: BenchServer) throws(ServerStartError) -> any RunningServer
}

/// Starts real server processes: `torsion echo` for backends, `/bin/sh -c`
/// for peers, each in its own process group so that stopping it stops
/// everything it started, pinned to the server CPU when there is one.
public struct ProcessLauncher: ServerLauncher {
    /// The `torsion` executable.
    public var torsionPath: String
    /// The CPU servers are pinned to, or `nil`.
    public var cpu: Int?
    /// Seconds a server may take to accept its first connection.
    public var startTimeout: Double

    /// Describes how servers are started.
    public init(torsionPath: String, cpu: Int?, startTimeout: Double) {
        self.torsionPath = torsionPath
        self.cpu = cpu
        self.startTimeout = startTimeout
    }

    /// Picks a free loopback port, spawns the server on it, pins it, and
    /// waits until the port accepts a connection.
    public func launch(_ server: BenchServer) throws(ServerStartError) -> any RunningServer {
        let port: UInt16
        do {
            port = try freeLoopbackPort()
        } catch {
            throw ServerStartError("server \"\(server.name)\": no free loopback port: \(error)")
        }
        let arguments: [String]
        switch server.kind {
        case .torsion(let backend):
            arguments = BenchServer.torsionArguments(torsionPath: torsionPath, backend: backend, port: port)
        case .peer(let command):
            arguments = ["/bin/sh", "-c", BenchServer.peerCommand(command, port: port)]
        }
        let process = try ActiveServers.shared.register {
            () throws(ServerStartError) in try ServerProcess.spawn(name: server.name, arguments: arguments, port: port)
        }
        if let cpu { process.pin(to: cpu) }
        do {
            try process.waitUntilListening(timeout: startTimeout)
        } catch {
            process.stop()
            throw error
        }
        // Threads the server started after the first pinning inherited it;
        // pin every task of the group again in case a peer's shell forked
        // before the pin landed.
        if let cpu { process.pin(to: cpu) }
        return process
    }
}

/// A spawned server process and its process group.
final class ServerProcess: RunningServer {
    let name: String
    let port: UInt16
    /// The leader of the group, the spawned process itself.
    let leader: pid_t
    /// An unlinked file holding the server's standard error.
    private let stderrFile: Int32
    /// Whether the leader has been reaped; guards the stop sequence so that
    /// the main thread and the signal handler never stop it twice.
    private let reaped = Mutex(false)

    private init(name: String, port: UInt16, leader: pid_t, stderrFile: Int32) {
        self.name = name
        self.port = port
        self.leader = leader
        self.stderrFile = stderrFile
    }

    deinit { close(stderrFile) }

    var pid: Int32? {
        // A peer run through a shell may have forked the real server:
        // measure the newest non-shell process of the group.
        let members = processGroupMembers(leader)
        let shells: Set<String> = ["sh", "bash", "dash", "zsh"]
        return members.last { !shells.contains(processName($0) ?? "") } ?? leader
    }

    /// Spawns `arguments` in a new process group with default signal
    /// handling, stdin and stdout on /dev/null and stderr kept for error
    /// messages.
    static func spawn(name: String, arguments: [String], port: UInt16) throws(ServerStartError) -> ServerProcess {
        var template = Array("/tmp/torsion-bench-stderr-XXXXXX".utf8CString)
        let stderrFile = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard stderrFile >= 0, fcntl(stderrFile, F_SETFD, FD_CLOEXEC) == 0 else {
            throw ServerStartError("server \"\(name)\": cannot create a file for its stderr: \(errnoText())")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderrFile, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        // The bench ignores SIGINT/SIGTERM/SIGPIPE while it runs (it
        // handles them itself); the server must get the defaults back.
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
        guard status == 0 else {
            close(stderrFile)
            throw ServerStartError(
                "server \"\(name)\": cannot start \(arguments[0]): \(errnoText(status))")
        }
        return ServerProcess(name: name, port: port, leader: child, stderrFile: stderrFile)
    }

    /// Pins every thread of every process in the group to `cpu`. Failures
    /// are ignored: an unpinned server still runs, only noisier.
    func pin(to cpu: Int) {
        for member in processGroupMembers(leader) {
            for task in threadIDs(member) { _ = setAffinity(of: task, to: cpu) }
        }
    }

    /// Returns once the port accepts a connection.
    ///
    /// - Throws: ``ServerStartError`` when the process exits first or
    ///   `timeout` seconds pass.
    func waitUntilListening(timeout: Double) throws(ServerStartError) {
        let deadline = monotonicSeconds() + timeout
        while true {
            var status: Int32 = 0
            if waitpid(leader, &status, WNOHANG) == leader {
                reaped.withLock { $0 = true }
                killRemainingGroup()
                ActiveServers.shared.remove(self)
                throw ServerStartError(
                    "server \"\(name)\" \(exitDescription(status)) before listening on 127.0.0.1:\(port)"
                        + stderrSuffix())
            }
            if loopbackAccepts(port: port) { return }
            guard monotonicSeconds() < deadline else {
                throw ServerStartError(
                    "server \"\(name)\" did not listen on 127.0.0.1:\(port) within \(formatSeconds(timeout)) s"
                        + stderrSuffix())
            }
            // Poll every 10 ms: a server starts in tens of milliseconds.
            pause(milliseconds: 10)
        }
    }

    /// SIGTERM to the group, SIGKILL after three seconds, the leader
    /// always reaped, then SIGKILL to whatever of the group is left.
    func stop() {
        reaped.withLock { reaped in
            guard !reaped else { return }
            kill(-leader, SIGTERM)
            // Three seconds for a clean shutdown, as a service manager
            // would give; echo servers need milliseconds.
            let deadline = monotonicSeconds() + 3
            var status: Int32 = 0
            while waitpid(leader, &status, WNOHANG) == 0 {
                if monotonicSeconds() >= deadline {
                    kill(-leader, SIGKILL)
                    while waitpid(leader, &status, 0) < 0 && errno == EINTR {}
                    break
                }
                pause(milliseconds: 5)
            }
            reaped = true
            killRemainingGroup()
        }
        ActiveServers.shared.remove(self)
    }

    /// SIGKILL to whatever is left of the group after the leader was
    /// reaped, then a wait (at most a second) until it is gone: a signal
    /// is delivered asynchronously, and no server process may outlive
    /// ``stop()``.
    private func killRemainingGroup() {
        kill(-leader, SIGKILL)
        let deadline = monotonicSeconds() + 1
        while !liveGroupMembers(leader).isEmpty && monotonicSeconds() < deadline {
            pause(milliseconds: 2)
        }
    }

    /// The last lines of the server's standard error, as `; its stderr
    /// ends: ...`, or empty when it wrote nothing.
    private func stderrSuffix() -> String {
        let size = lseek(stderrFile, 0, SEEK_END)
        guard size > 0 else { return "; it wrote nothing on stderr" }
        // The last 1000 bytes: enough for an error message and its context.
        let length = Int(min(size, 1000))
        var bytes = [UInt8](repeating: 0, count: length)
        let count = bytes.withUnsafeMutableBytes { pread(stderrFile, $0.baseAddress, length, off_t(size) - off_t(length)) }
        guard count > 0 else { return "" }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        let lines = text.split(separator: "\n").suffix(5).joined(separator: "\n  ")
        return "; its stderr ends:\n  " + lines
    }
}

/// The servers currently running, so that an interrupted run can stop
/// them. Any thread.
final class ActiveServers: Sendable {
    static let shared = ActiveServers()

    private struct State {
        var servers: [ObjectIdentifier: ServerProcess] = [:]
        /// Set by ``stopAll()``: the process is exiting, nothing more starts.
        var closed = false
    }
    private let state = Mutex(State())

    /// Spawns a server with `spawn` and records it, under the lock that
    /// ``stopAll()`` takes: a signal arriving mid-spawn cannot miss the
    /// new child, and none starts after the servers were stopped.
    func register(
        _ spawn: () throws(ServerStartError) -> ServerProcess
    ) throws(ServerStartError) -> ServerProcess {
        try state.withLock { (state) throws(ServerStartError) -> ServerProcess in
            guard !state.closed else { throw ServerStartError("the run was interrupted") }
            let server = try spawn()
            state.servers[ObjectIdentifier(server)] = server
            return server
        }
    }

    func remove(_ server: ServerProcess) { state.withLock { _ = $0.servers.removeValue(forKey: ObjectIdentifier(server)) } }

    /// Stops every running server and refuses new ones; returns the
    /// names of those it stopped.
    func stopAll() -> [String] {
        let running = state.withLock { state in
            state.closed = true
            return Array(state.servers.values)
        }
        for server in running { server.stop() }
        return running.map(\.name)
    }
}

// MARK: - System helpers

/// `code` as the system words it, with its number: "Connection refused (errno 111)".
func errnoText(_ code: Int32 = errno) -> String { "\(String(cString: strerror(code))) (errno \(code))" }

func pause(milliseconds: Int) {
    var interval = timespec(tv_sec: 0, tv_nsec: milliseconds * 1_000_000)
    nanosleep(&interval, nil)
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}

/// "exited with status N" or "was killed by signal N".
func exitDescription(_ status: Int32) -> String {
    let signal = status & 0x7f
    return signal == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
}

private func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
    return address
}

/// A port the kernel picks among the free ones, bound and released: the
/// server binds it a moment later.
func freeLoopbackPort() throws(ServerStartError) -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw ServerStartError("socket: \(errnoText())") }
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw ServerStartError("bind 127.0.0.1:0: \(errnoText())") }
    return UInt16(bigEndian: address.sin_port)
}

/// Whether a connection to 127.0.0.1:`port` is accepted (it is closed at once).
func loopbackAccepts(port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopbackAddress(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// The number of CPUs online.
public func onlineCPUCount() -> Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

/// Pins thread or process `id` (0: the calling thread) to `cpu`; false on failure.
@discardableResult
public func setAffinity(of id: pid_t, to cpu: Int) -> Bool {
    var set = cpu_set_t()
    guard cpu >= 0, cpu < MemoryLayout<cpu_set_t>.size * 8 else { return false }
    // CPU_SET is a macro: set bit `cpu` of the little-endian bit array by hand.
    withUnsafeMutableBytes(of: &set) { $0[cpu / 8] |= UInt8(1) << UInt8(cpu % 8) }
    return sched_setaffinity(id, MemoryLayout<cpu_set_t>.size, &set) == 0
}

/// The numeric entries of a /proc directory.
private func numericEntries(_ path: String) -> [pid_t] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var ids: [pid_t] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let id = pid_t(name) { ids.append(id) }
    }
    return ids.sorted()
}

func threadIDs(_ pid: pid_t) -> [pid_t] { numericEntries("/proc/\(pid)/task") }

/// Fields of /proc/PID/stat after the command name: state, ppid, pgrp, ...
func processStatFields(_ pid: pid_t) -> [Substring]? {
    guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(after: close)...].split(separator: " ")
}

/// The command name of a process (`comm`).
func processName(_ pid: pid_t) -> String? {
    readSmallFile("/proc/\(pid)/comm").map { $0.trimmingSuffix("\n") }
}

/// The processes whose process group is `group`, oldest pid first.
func processGroupMembers(_ group: pid_t) -> [pid_t] {
    numericEntries("/proc").filter { pid in
        guard let fields = processStatFields(pid), fields.count > 2 else { return false }
        return pid_t(fields[2]) == group
    }
}

/// The members of group `group` that are not zombies.
func liveGroupMembers(_ group: pid_t) -> [pid_t] {
    processGroupMembers(group).filter { processStatFields($0)?.first != "Z" }
}

/// The processes whose parent is `parent`.
public func childProcesses(of parent: pid_t) -> [pid_t] {
    numericEntries("/proc").filter { pid in
        guard let fields = processStatFields(pid), fields.count > 1 else { return false }
        return pid_t(fields[1]) == parent
    }
}

func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 4096)
    let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    return count > 0 ? String(decoding: bytes[..<count], as: UTF8.self) : nil
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
