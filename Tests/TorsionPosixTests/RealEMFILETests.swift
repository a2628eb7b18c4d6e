import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Names the backend the child process runs the real-EMFILE scenario on;
/// set only in that child.
private let childVariable = "TORSION_TEST_REAL_EMFILE_BACKEND"

/// Runs this test binary again as a child with `environment` added and
/// only the tests matching `filter`; returns its exit status and output.
/// The wait is bounded: a child still running after `limit` seconds is
/// killed and reported.
private func runChild(
    filter: String, environment: [String: String], limit: Int32 = 60
) throws -> (
    status: Int32, output: String
) {
    var pathBuffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let length = readlink("/proc/self/exe", &pathBuffer, pathBuffer.count - 1)
    guard length > 0 else { throw SystemError(call: "readlink") }
    let path = String(decoding: pathBuffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)

    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw SystemError(call: "pipe") }
    // Only the child's dup2 copies may stay open across its exec.
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    defer { close(fds[0]) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)

    let arguments = [path, "--testing-library", "swift-testing", "--filter", filter]
    var variables = [String]()
    var index = 0
    while let entry = environ[index] {
        variables.append(String(cString: entry))
        index += 1
    }
    variables += environment.map { "\($0.key)=\($0.value)" }
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = variables.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
    close(fds[1])
    guard spawned == 0 else { throw SystemError(errno: spawned, call: "posix_spawn") }

    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    var timedOut = false
    while true {
        var entry = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, limit * 1000)
        if ready == 0 {
            timedOut = true
            kill(pid, SIGKILL)
            break
        }
        if ready < 0 {
            if errno == EINTR { continue }
            break
        }
        let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if count <= 0 { break }
        output += buffer.prefix(count)
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let text = String(decoding: output, as: UTF8.self)
    if timedOut { Issue.record("the child was still running after \(limit) s:\n\(text)") }
    return (status, text)
}

@Suite("A real EMFILE, in a child process")
struct RealEMFILETests {
    @Test(
        "out of descriptors for real, the listener sheds the connection and keeps working", arguments: Backend.available
    )
    func realEMFILE(backend: Backend) throws {
        let (status, output) = try runChild(
            filter: "RealEMFILETests/childScenario", environment: [childVariable: backend.rawValue])
        // WIFEXITED && WEXITSTATUS == 0
        #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 0, "the child failed:\n\(output)")
        #expect(output.contains("Test run with 1 test"), "the child ran no scenario:\n\(output)")
    }

    /// The scenario, run only in the child: the descriptor limit is
    /// lowered for that whole process, which must not happen to the tests
    /// running in parallel in the parent.
    @Test(
        "child scenario: lowered RLIMIT_NOFILE, table filled, one client",
        .enabled(if: processEnvironment(childVariable) != nil, "runs only in the child process"))
    func childScenario() throws {
        let backend = try Backend(named: processEnvironment(childVariable) ?? "")
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try #require(try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1") as? StreamPort)
        let address = SocketAddress.ipv4(try #require(port.host as? IPv4Address))
        #expect(port.hasReserve)

        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = min(limit.rlim_max, 512)
        #expect(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        var fillers: [Int32] = []
        while true {
            let descriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if descriptor < 0 { break }
            fillers.append(descriptor)
        }
        #expect(errno == EMFILE)
        // The client takes the last free slot: the table is full.
        close(fillers.removeLast())
        let shed = try rawClient(to: address)
        defer { close(shed) }
        #expect(open("/dev/null", O_RDONLY | O_CLOEXEC) == -1 && errno == EMFILE)

        try turn(reactor) { readAvailable(shed) == [] }
        #expect(factory.built.isEmpty)
        // The reserve is back by the end of the turn (the kernel fails
        // the accept after the shed one with EMFILE too, before seeing the
        // queue is empty, so the port gave its reserve once more).
        reactor.iterate(delay: 0)
        #expect(port.hasReserve)

        fillers.forEach { close($0) }
        let served = try rawClient(to: address)
        defer { close(served) }
        try turn(reactor) { factory.built.count == 1 }
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }
}
