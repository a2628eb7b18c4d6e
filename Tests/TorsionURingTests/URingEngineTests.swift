import CLibURing
import Glibc
import Testing
import TorsionEngine

@testable import TorsionURing

/// A pipe for the engine tests; both ends nonblocking and close-on-exec.
struct Pipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        readEnd = ends[0]
        writeEnd = ends[1]
        for end in ends { _ = fcntl(end, F_SETFL, O_NONBLOCK) }
    }

    /// Writes one byte, making the read end readable.
    func fill() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

}

/// A connected UNIX socket pair, nonblocking: closing one end is seen on
/// the other as end of file, which, unlike asking whether a number is
/// open, cannot be fooled by a test running in parallel reusing it.
struct SocketPair {
    let end: Int32
    let peer: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
        end = ends[0]
        peer = ends[1]
        for fd in ends { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
    }

    /// Whether ``end`` was closed: its peer reads end of file.
    var endIsClosed: Bool {
        var byte: UInt8 = 0
        return read(peer, &byte, 1) == 0
    }
}

/// Runs `body` with a fresh engine and a pipe, closing all three after.
func withEngineAndPipe(_ body: (URingEngine, Pipe) throws -> Void) throws {
    let engine = try URingEngine()
    defer { engine.close() }
    let pipe = try Pipe()
    defer {
        close(pipe.readEnd)
        close(pipe.writeEnd)
    }
    try body(engine, pipe)
}

/// Turns `engine` with a zero timeout until `done` or `turns` turns, so a
/// broken engine fails the test instead of hanging it.
func turn(_ engine: URingEngine, turns: Int = 100, until done: () -> Bool) throws {
    for _ in 0..<turns where !done() {
        try engine.wait(timeout: 0)
    }
}

@Suite("URingEngine: submission, completion and close", .enabled(if: URingProbe.current.isAvailable))
struct URingEngineTests {
    @Test("a submitted operation's completion runs once, from wait, with the CQE's result")
    func singleShotCompletion() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        var results: [Int32] = []
        engine.submit({ sqe in io_uring_prep_nop(sqe) }) { result, _ in results.append(result) }
        #expect(results.isEmpty)
        try turn(engine) { !results.isEmpty }
        try engine.wait(timeout: 0)
        #expect(results == [0])
    }

    @Test("a multishot operation's completion runs for every CQE until cancelled")
    func multishotUntilCancelled() throws {
        try withEngineAndPipe { engine, pipe in
            var moreFlags: [Bool] = []
            let token = engine.submit({ sqe in io_uring_prep_poll_multishot(sqe, pipe.writeEnd, UInt32(POLLOUT)) }) {
                _, flags in moreFlags.append(flags & IORING_CQE_F_MORE != 0)
            }
            try turn(engine) { !moreFlags.isEmpty }
            #expect(moreFlags == [true])
            #expect(engine.operationsInFlight(on: pipe.writeEnd) == 1)
            engine.cancel(token)
            try turn(engine) { moreFlags.last == false }
            #expect(moreFlags.last == false)
            #expect(engine.operationsInFlight(on: pipe.writeEnd) == 0)
        }
    }

    @Test("operations on one descriptor are counted whichever of them ends first, and unwatch cancels them all")
    func descriptorChain() throws {
        try withEngineAndPipe { engine, pipe in
            let fd = pipe.writeEnd
            var finals: [Int] = []
            // Multishot polls on an always-writable pipe: each stays in
            // flight, and in the descriptor's chain, until cancelled.
            func arm(_ name: Int) -> UInt64 {
                engine.submit({ sqe in io_uring_prep_poll_multishot(sqe, fd, UInt32(POLLOUT)) }) { _, flags in
                    if flags & IORING_CQE_F_MORE == 0 { finals.append(name) }
                }
            }
            let first = arm(1)
            let second = arm(2)
            _ = arm(3)
            try turn(engine) { engine.operationsInFlight(on: fd) == 3 }
            #expect(engine.operationsInFlight(on: fd) == 3)
            // The chain's head is the first armed, and each later one is
            // linked right after it: 1, 3, 2. End the tail, then the head,
            // then (after two more) one in the middle; every count holds.
            engine.cancel(second)
            try turn(engine) { finals == [2] }
            #expect(engine.operationsInFlight(on: fd) == 2)
            engine.cancel(first)
            try turn(engine) { finals == [2, 1] }
            #expect(engine.operationsInFlight(on: fd) == 1)
            _ = arm(4)
            let fifth = arm(5)
            #expect(engine.operationsInFlight(on: fd) == 3)
            engine.cancel(fifth)
            try turn(engine) { finals == [2, 1, 5] }
            #expect(engine.operationsInFlight(on: fd) == 2)
            engine.unwatch(fd)
            try turn(engine) { finals.count == 5 }
            #expect(Set(finals) == [1, 2, 3, 4, 5])
            #expect(engine.operationsInFlight(on: fd) == 0)
        }
    }

    @Test("closeDescriptor closes at once when nothing is in flight on the descriptor")
    func closeIdleDescriptor() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        let pair = try SocketPair()
        defer { close(pair.peer) }
        engine.closeDescriptor(pair.end)
        #expect(pair.endIsClosed)
    }

    @Test("closeDescriptor waits for the final CQE of every operation on the descriptor before closing it")
    func closeWaitsForFinalCompletion() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        let pair = try SocketPair()
        defer { close(pair.peer) }
        var results: [Int32] = []
        // Nothing to read: the poll stays pending until cancelled.
        engine.submit({ sqe in io_uring_prep_poll_add(sqe, pair.end, UInt32(POLLIN)) }) { result, _ in
            results.append(result)
        }
        try engine.wait(timeout: 0)
        engine.closeDescriptor(pair.end)
        #expect(!pair.endIsClosed, "closed while the poll was in flight")
        try turn(engine) { !results.isEmpty }
        #expect(results == [-ECANCELED])
        #expect(pair.endIsClosed)
    }

    @Test("a wake from another thread ends a wait without timeout")
    func wakeEndsWait() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        let waker = engine.waker
        let thread = try PosixThread { waker.wake() }
        try engine.wait(timeout: nil)
        thread.join()
        // A second wake is seen too: the waker's poll stays armed.
        waker.wake()
        try engine.wait(timeout: nil)
    }

    @Test("a single-issuer ring entered from a thread other than the loop's first fails with a named EEXIST")
    func singleIssuerIsTheFirstThread() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        // Single issuer came with Linux 6.0, DEFER_TASKRUN with 6.1; an
        // older ring accepts any thread, which is not this test's subject.
        guard engine.setup == .singleIssuer else { return }
        try engine.wait(timeout: 0)
        // SAFETY: the engine is used by one thread at a time: the other
        // thread is joined before this one touches it again.
        nonisolated(unsafe) let shared = engine
        nonisolated(unsafe) var failure: SystemError?
        let thread = try PosixThread {
            do { try shared.wait(timeout: 0) } catch { failure = error as? SystemError }
        }
        thread.join()
        #expect(failure?.errno == EEXIST)
        #expect(failure?.description.contains("the ring belongs to the loop's first thread") == true)
    }

    @Test("timeouts become kernel timespecs, clamped instead of trapping")
    func timespecClamping() {
        let half = URingEngine.timespec(1.5)
        #expect(half.tv_sec == 1 && half.tv_nsec == 500_000_000)
        #expect(URingEngine.timespec(-3).tv_sec == 0)
        #expect(URingEngine.timespec(.infinity).tv_sec == 1_000_000_000)
    }
}
