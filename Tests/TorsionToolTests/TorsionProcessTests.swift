import Foundation
import Testing
import Torsion
import TorsionTool

/// The built `torsion` executable: SwiftPM puts it in the build directory,
/// beside the test bundle (the running test executable on Linux, the
/// `.xctest` bundle on macOS). `TORSION_BINARY` overrides the search.
func torsionExecutable() throws -> URL {
    var candidates: [URL] = []
    if let override = ProcessInfo.processInfo.environment["TORSION_BINARY"], !override.isEmpty {
        candidates.append(URL(fileURLWithPath: override))
    }
    if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("torsion"))
    }
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("torsion"))
    }
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
        return found
    }
    throw ExecutableNotFound(searched: candidates.map(\.path))
}

/// The `torsion` executable is not where the build puts it.
struct ExecutableNotFound: Error, CustomStringConvertible {
    let searched: [String]
    var description: String {
        "the torsion executable was not found (build it with `swift build`, or set TORSION_BINARY); looked at: "
            + searched.joined(separator: ", ")
    }
}

/// A `torsion` child process with its standard output and error piped.
final class TorsionProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let exited = DispatchSemaphore(value: 0)
    private var errorBytes: [UInt8] = []

    init(_ arguments: [String]) throws {
        process.executableURL = try torsionExecutable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[Backend.environmentVariable] = nil
        process.environment = environment
        process.standardOutput = output
        process.standardError = errors
        let exited = exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
    }

    /// The next line written to standard error, without its newline, or
    /// `nil` when none came within `timeout` seconds or the pipe closed.
    func standardErrorLine(timeout: Double = 10) -> String? {
        let fd = errors.fileHandleForReading.fileDescriptor
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while true {
            if let newline = errorBytes.firstIndex(of: 0x0A) {
                let line = String(decoding: errorBytes[..<newline], as: UTF8.self)
                errorBytes.removeSubrange(...newline)
                return line
            }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return nil }
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollfd, 1, Int32(min((deadline - now) / 1_000_000 + 1, 60_000)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            errorBytes += chunk[..<count]
        }
    }

    /// Everything written to standard error after the lines already read;
    /// call after the process exited.
    func remainingStandardError() -> String {
        let rest = errors.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: errorBytes + Array(rest), as: UTF8.self)
    }

    /// Everything written to standard output; call after the process exited.
    func standardOutput() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Waits at most `timeout` seconds for the process to exit; on timeout
    /// kills it and returns `false`.
    func waitForExit(timeout: Double = 10) -> Bool {
        if exited.wait(timeout: .now() + timeout) == .success { return true }
        kill(process.processIdentifier, SIGKILL)
        exited.wait()
        return false
    }

    /// Kills the process if a failed test left it running.
    func killIfRunning() {
        if process.isRunning { _ = waitForExit(timeout: 0) }
    }

    /// Sends `signal` to the process.
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// The status of a process that exited normally, `nil` if a signal
    /// ended it.
    var exitStatus: Int32? {
        process.terminationReason == .exit ? process.terminationStatus : nil
    }
}

/// The port in a line `torsion: NAME listening on 127.0.0.1:PORT (reactor: R)`.
func listeningPort(in line: String, command: String, backend: Backend) -> Int? {
    let prefix = "torsion: \(command) listening on 127.0.0.1:"
    let suffix = " (reactor: \(backend.rawValue))"
    guard line.hasPrefix(prefix), line.hasSuffix(suffix) else { return nil }
    return Int(line.dropFirst(prefix.count).dropLast(suffix.count))
}

@Suite("The torsion executable")
struct TorsionProcessTests {
    @Test("torsion backends prints one line per backend and exits 0")
    func backends() throws {
        let torsion = try TorsionProcess(["backends"])
        #expect(torsion.waitForExit())
        #expect(torsion.exitStatus == 0)
        #expect(torsion.standardOutput() == BackendsCommand.listing + "\n")
    }

    @Test("bad arguments exit non-zero with a usage message")
    func badArguments() throws {
        for arguments in [
            [], ["echo"], ["echo", "--listen", "tcp:0", "--reactor", "kqueue"], ["echo", "--listen", "nope:1"],
        ] {
            let torsion = try TorsionProcess(arguments)
            #expect(torsion.waitForExit())
            #expect(torsion.exitStatus.map { $0 != 0 } == true, "\(arguments)")
            #expect(torsion.remainingStandardError().contains("Usage: torsion"), "\(arguments)")
        }
    }

    @Test("echo reports its address on stderr, serves, refuses a second listener on its port, and exits 0 on SIGTERM")
    func echoLifecycle() throws {
        let torsion = try TorsionProcess(["echo", "--listen", "tcp:0:interface=127.0.0.1", "--reactor", "poll"])
        defer { torsion.killIfRunning() }
        let line = try #require(torsion.standardErrorLine(), "no listening line on stderr")
        let port = try #require(listeningPort(in: line, command: "echo", backend: .poll), "unexpected line: \(line)")

        // Talk to it with a client on this process's own reactor.
        let reactor = try Reactor(backend: .best)
        let client = ScriptedClient(sending: "ping\r\n")
        client.expect("ping\r\n") { $0.transport?.loseConnection() }
        client.onLost = { _ in try? reactor.stop() }
        let factory = ScriptedClientFactory([client], reactor: reactor)
        reactor.callWhenRunning { reactor.connectTCP(host: "127.0.0.1", port: port, factory: factory) }
        let watchdog = reactor.callLater(10) {
            Issue.record("watchdog: no echo within 10 s")
            try? reactor.stop()
        }
        try reactor.run()
        if watchdog.isActive { try watchdog.cancel() }
        #expect(client.text == "ping\r\n")

        // A second server on the same port fails clearly.
        let second = try TorsionProcess(["echo", "--listen", "tcp:\(port):interface=127.0.0.1"])
        #expect(second.waitForExit())
        #expect(second.exitStatus.map { $0 != 0 } == true)
        #expect(second.remainingStandardError().contains("cannot listen on \"tcp:\(port):interface=127.0.0.1\""))

        torsion.send(SIGTERM)
        #expect(torsion.waitForExit(), "torsion did not exit within 10 s of SIGTERM")
        #expect(torsion.exitStatus == 0)
        #expect(torsion.remainingStandardError() == "")
    }

    @Test("SIGINT shuts the server down cleanly too")
    func interrupt() throws {
        let torsion = try TorsionProcess(["chat", "--listen", "tcp:0:interface=127.0.0.1"])
        defer { torsion.killIfRunning() }
        let line = try #require(torsion.standardErrorLine(), "no listening line on stderr")
        #expect(listeningPort(in: line, command: "chat", backend: .best) != nil, "unexpected line: \(line)")
        torsion.send(SIGINT)
        #expect(torsion.waitForExit())
        #expect(torsion.exitStatus == 0)
    }
}
