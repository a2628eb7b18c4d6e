import CLibURing
import Glibc
import Testing
import TorsionCore
import TorsionEngine

@testable import TorsionURing

/// The two kinds of stream socket the engine receives and sends on.
enum StreamPairKind: CaseIterable, Sendable, CustomStringConvertible {
    case unix
    case tcp

    var description: String { self == .unix ? "UNIX socketpair" : "TCP loopback" }

    /// A connected pair of nonblocking, close-on-exec stream sockets.
    func makePair() throws -> (Int32, Int32) {
        switch self {
        case .unix:
            var fds: [Int32] = [-1, -1]
            let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            guard socketpair(AF_UNIX, kind, 0, &fds) == 0 else { throw SystemError(call: "socketpair") }
            return (fds[0], fds[1])
        case .tcp:
            let listener = try Socket.makeListeningSocket(
                on: .ipv4(IPv4Address(host: "127.0.0.1", port: 0)), backlog: 1)
            defer { close(listener) }
            let client = try Socket.makeSocket(family: AF_INET, kind: .stream)
            // Loopback: the handshake is done once the listener's queue
            // holds the connection, which a blocking poll waits for.
            _ = try Socket.connect(client, to: try Socket.localAddress(listener))
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 5000) == 1, let (server, _) = try Socket.accept(listener) else {
                close(client)
                throw SystemError(errno: ETIMEDOUT, call: "accept")
            }
            var writable = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
            _ = poll(&writable, 1, 5000)
            return (client, server)
        }
    }
}

/// Bytes that differ at every offset of a long run, so a lost, repeated or
/// reordered chunk changes the comparison.
func streamPattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131 &+ $0 >> 8 &+ seed) % 253) }
}

/// Turns `engine` (each wait returns at the first CQE, the limit only
/// guards against a hang) until `done`, recording a failure when it does
/// not hold after `turns` turns.
func pump(
    _ engine: URingEngine, turns: Int = 5000, sourceLocation: SourceLocation = #_sourceLocation,
    until done: () -> Bool
) throws {
    for _ in 0..<turns {
        if done() { return }
        try engine.wait(timeout: 1)
    }
    #expect(done(), "still waiting after \(turns) turns", sourceLocation: sourceLocation)
}

/// What one receive got: the bytes in order and how it ended.
final class ReceiveLog {
    var bytes: [UInt8] = []
    var chunks = 0
    var ending: String?

    func record(_ result: ReceiveResult) {
        #expect(ending == nil, "a delivery after the receive ended")
        switch result {
        case .data(let chunk):
            #expect(!chunk.isEmpty)
            bytes += chunk
            chunks += 1
        case .endOfFile:
            ending = "eof"
        case .failed(let error):
            ending = "errno \((error as? SystemError)?.errno ?? -1)"
        }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Writes what `fd` takes of `data[offset...]` without blocking; returns
/// the new offset.
func writeSome(_ data: [UInt8], from offset: Int, to fd: Int32) -> Int {
    guard offset < data.count else { return offset }
    let written = data[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    return written > 0 ? offset + written : offset
}

/// Writes all of `text` to the test-owned socket `fd`.
func writeText(_ text: String, to fd: Int32) {
    let bytes = Array(text.utf8)
    #expect(writeSome(bytes, from: 0, to: fd) == bytes.count)
}

/// Bytes waiting in `fd`'s receive queue (FIONREAD).
func queuedBytes(_ fd: Int32) -> Int32 {
    var count: Int32 = 0
    _ = ioctl(fd, UInt(FIONREAD), &count)
    return count
}

/// The two kinds of provided buffer ring the engine makes.
enum RingKind: CaseIterable, Sendable, CustomStringConvertible {
    /// Whole buffers, one per chunk (any kernel with buffer rings).
    case whole
    /// Incremental, where the kernel takes it (6.12); elsewhere the engine
    /// falls back to whole buffers, which this then tests again.
    case incremental

    var description: String { self == .whole ? "whole buffers" : "incremental ring" }

    /// Sets `streams` to make this kind of ring.
    func apply(to streams: URingStreams) {
        streams.prefersIncrementalBuffers = self == .incremental
    }

    /// A fixture shape for this kind of ring with `count` buffers of
    /// `size` bytes (nil: the kind's default).
    func shape(count: Int? = nil, size: Int? = nil) -> (URingStreams) -> Void {
        { streams in
            apply(to: streams)
            streams.bufferCount = count
            streams.bufferSize = size
        }
    }
}

/// An engine with a connected pair: `local` (the engine's side) and
/// `peer`; everything is unwatched, closed and released at the end.
final class StreamFixture {
    let engine: URingEngine
    let local: Int32
    let peer: Int32
    private var peerOpen = true

    /// `shape` adjusts the buffer ring before the first receive creates it.
    init(_ kind: StreamPairKind = .unix, shape: (URingStreams) -> Void = { _ in }) throws {
        engine = try URingEngine()
        shape(engine.streams)
        do {
            (local, peer) = try kind.makePair()
        } catch {
            engine.close()
            throw error
        }
    }

    /// Receives on `fd` (by default `local`) into a new log.
    func receiveLog(on fd: Int32? = nil) throws -> ReceiveLog {
        let log = ReceiveLog()
        try engine.receive(fd ?? local) { log.record($0) }
        return log
    }

    /// Closes the peer's end now.
    func closePeer() {
        peerOpen = false
        close(peer)
    }

    deinit {
        engine.unwatch(local)
        engine.unwatch(peer)
        engine.close()
        close(local)
        if peerOpen { close(peer) }
    }
}

@Suite("URingEngine: stream receive and send", .enabled(if: URingProbe.current.isAvailable))
struct URingStreamTests {
    @Test(
        "1 MiB crosses both ways at once, every byte in order",
        arguments: StreamPairKind.allCases, RingKind.allCases)
    func megabyteBothWays(kind: StreamPairKind, ring: RingKind) throws {
        let fixture = try StreamFixture(kind, shape: ring.apply)
        let (engine, left, right) = (fixture.engine, fixture.local, fixture.peer)
        let size = 1 << 20
        let fromLeft = streamPattern(size, seed: 1)
        let fromRight = streamPattern(size, seed: 2)
        let atLeft = try fixture.receiveLog(on: left)
        let atRight = try fixture.receiveLog(on: right)
        var sent: [Int32: Int] = [:]
        // Uneven pieces, so iovec boundaries fall inside the socket's chunks.
        for (fd, data) in [(left, fromLeft), (right, fromRight)] {
            let pieces = [Array(data[..<7]), Array(data[7..<70_000]), [], Array(data[70_000...])]
            let immediate = engine.send(fd, buffers: pieces, descriptors: []) { result in
                if case .sent(let count) = result { sent[fd] = count }
            }
            #expect(immediate == nil)
        }
        try pump(engine) { sent.count == 2 && atLeft.bytes.count >= size && atRight.bytes.count >= size }
        #expect(sent == [left: size, right: size])
        #expect(atRight.bytes == fromLeft)
        #expect(atLeft.bytes == fromRight)
        #expect(atLeft.ending == nil && atRight.ending == nil)
    }

    @Test(
        "a ring far too small for the load runs dry (ENOBUFS) and is re-armed without losing or reordering bytes",
        arguments: RingKind.allCases)
    func exhaustedRingLosesNothing(ring: RingKind) throws {
        let fixture = try StreamFixture(shape: ring.shape(count: 2, size: 64))
        let data = streamPattern(256 << 10, seed: 3)
        let log = try fixture.receiveLog()
        var offset = 0
        try pump(fixture.engine, turns: 50_000) {
            offset = writeSome(data, from: offset, to: fixture.peer)
            return log.bytes.count >= data.count
        }
        #expect(log.bytes == data)
        #expect(fixture.engine.streams.exhaustedReceives > 0, "the ring never ran dry: the test proves nothing")
        #expect(fixture.engine.streams.buffers?.availableCount == 2)
    }

    @Test(
        "on an incremental ring small chunks share one buffer the kernel keeps, so every buffer stays in the ring",
        .enabled(if: kernelTakesIncrementalRings))
    func incrementalRingKeepsSmallChunks() throws {
        let fixture = try StreamFixture()
        let log = try fixture.receiveLog()
        for text in ["one", "two", "three"] {
            writeText(text, to: fixture.peer)
            try pump(fixture.engine) { log.text.hasSuffix(text) }
        }
        #expect(log.text == "onetwothree")
        let buffers = try #require(fixture.engine.streams.buffers)
        #expect(buffers.isIncremental)
        #expect(buffers.bufferSize == 65_536)
        #expect(buffers.availableCount == buffers.bufferCount)
    }

    @Test(
        "cancelReceive stops deliveries at once; what completed meanwhile comes first, in order, on resume",
        arguments: [false, true])
    func pauseAndResume(resumeBeforeCancelCompletes: Bool) throws {
        // Four-byte buffers: twelve bytes written at once make three CQEs
        // of one multishot receive in the same batch.
        let fixture = try StreamFixture { $0.bufferSize = 4 }
        let (engine, local) = (fixture.engine, fixture.local)
        let log = ReceiveLog()
        var paused = false
        func handler(_ result: ReceiveResult) {
            #expect(!paused, "delivered after cancelReceive")
            log.record(result)
            guard log.chunks == 1 else { return }
            engine.cancelReceive(local)
            paused = true
            if resumeBeforeCancelCompletes {
                // Resumed while the cancellation is still on its way: the
                // chunks of this batch must not overtake or follow twice.
                paused = false
                try? engine.receive(local, handler: handler)
            }
        }
        try engine.receive(local, handler: handler)
        writeText("abcdefghijkl", to: fixture.peer)
        try pump(engine) { log.chunks >= 1 }
        let stream = try #require(engine.streams.byDescriptor[local])
        let parkedAtPause = stream.parked.count
        // The cancellation completes; the socket is no longer read.
        try pump(engine) { stream.receiveToken == nil || resumeBeforeCancelCompletes }
        writeText("mnop", to: fixture.peer)
        if !resumeBeforeCancelCompletes {
            #expect(parkedAtPause > 0, "no CQE arrived after the cancel: the test proves nothing")
            for _ in 0..<5 { try engine.wait(timeout: 0) }
            #expect(log.chunks == 1)
            #expect(queuedBytes(local) == 4, "the kernel kept reading after cancelReceive")
            paused = false
            try engine.receive(local, handler: handler)
            #expect(log.chunks == 1, "receive delivered from inside the call")
        }
        try pump(engine) { log.bytes.count >= 16 }
        #expect(log.text == "abcdefghijklmnop")
    }

    @Test("a send larger than the socket buffer is sent in short sends, the rest resubmitted in order")
    func shortSendsContinue() throws {
        let fixture = try StreamFixture(.tcp)
        // A small send buffer (the receiver's stays large: a tiny receive
        // window would leave TCP waiting for its persist timer).
        var small: Int32 = 16_384
        setsockopt(fixture.local, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let data = streamPattern(1 << 20, seed: 4)
        var outcome: Int?
        let pieces = [Array(data[..<1000]), Array(data[1000...])]
        #expect(fixture.engine.send(fixture.local, buffers: pieces, descriptors: []) { result in
            if case .sent(let count) = result { outcome = count }
        } == nil)
        // The peer is read by the engine too: a reader between turns
        // would leave the kernel's send waiting for room until a timeout.
        let log = try fixture.receiveLog(on: fixture.peer)
        try pump(fixture.engine) { outcome != nil && log.bytes.count >= data.count }
        #expect(outcome == data.count)
        #expect(log.bytes == data)
        #expect(fixture.engine.streams.shortSends > 0, "the socket took everything at once: the test proves nothing")
    }

    @Test("the send buffer starts small and grows only when a send needs it; every byte arrives in order")
    func sendBufferGrowsAsNeeded() throws {
        let fixture = try StreamFixture(.tcp)
        let sizes = [10, 200, 300, 1000, URingStream.sendBufferSize, 64]
        let data = streamPattern(sizes.reduce(0, +), seed: 11)
        let log = try fixture.receiveLog(on: fixture.peer)
        var capacities: [Int] = []
        var offset = 0
        for size in sizes {
            var sent: Int?
            let chunk = Array(data[offset..<offset + size])
            offset += size
            let immediate = fixture.engine.send(fixture.local, bytes: chunk) { result in
                if case .sent(let count) = result { sent = count } else { sent = -1 }
            }
            #expect(immediate == nil)
            capacities.append(fixture.engine.streams.byDescriptor[fixture.local]?.sendBuffer?.count ?? 0)
            try pump(fixture.engine) { sent != nil }
            #expect(sent == size)
        }
        try pump(fixture.engine) { log.bytes.count >= data.count }
        #expect(log.bytes == data)
        #expect(capacities == [256, 256, 512, 1024, 4096, 4096])
    }

    @Test("single arrays are sent from the descriptor's send buffer, one after another, every byte in order")
    func copiedSendsArriveInOrder() throws {
        let fixture = try StreamFixture(.tcp)
        var small: Int32 = 16_384
        setsockopt(fixture.local, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let data = streamPattern(URingStream.sendBufferSize * 64, seed: 9)
        let log = try fixture.receiveLog(on: fixture.peer)
        var offset = 0
        var failure: (any Error)?
        // Each send starts when the previous one completed, as a
        // transport's write-through does; the arrays alternate between
        // the largest that is copied and smaller ones.
        func sendNext() {
            guard offset < data.count else { return }
            let count = min(offset / URingStream.sendBufferSize % 2 == 0 ? URingStream.sendBufferSize : 1000, data.count - offset)
            let chunk = Array(data[offset..<offset + count])
            offset += count
            let result = fixture.engine.send(fixture.local, bytes: chunk) { result in
                switch result {
                case .sent(let sent):
                    if sent != count { failure = SystemError(errno: EIO, call: "short completion") }
                    sendNext()
                case .failed(let error): failure = error
                }
            }
            #expect(result == nil)
            #expect(fixture.engine.streams.byDescriptor[fixture.local]?.sendBuffer != nil)
        }
        sendNext()
        try pump(fixture.engine) { failure != nil || log.bytes.count >= data.count }
        #expect(failure == nil)
        #expect(log.bytes == data)
    }

    @Test("a single array larger than the send buffer is sent from the array itself")
    func largeSingleArrayIsNotCopied() throws {
        let fixture = try StreamFixture()
        let data = streamPattern(URingStream.sendBufferSize + 1, seed: 10)
        let log = try fixture.receiveLog(on: fixture.peer)
        var outcome: Int?
        #expect(fixture.engine.send(fixture.local, bytes: data) { if case .sent(let count) = $0 { outcome = count } } == nil)
        #expect(fixture.engine.streams.byDescriptor[fixture.local]?.sendBuffer == nil)
        try pump(fixture.engine) { outcome != nil && log.bytes.count >= data.count }
        #expect(outcome == data.count)
        #expect(log.bytes == data)
    }

    @Test("more buffers than one sendmsg takes go in several, in order")
    func moreBuffersThanOneSendTakes() throws {
        let fixture = try StreamFixture()
        let pieces = (0..<(maximumBuffersPerSend * 2 + 5)).map { [UInt8(truncatingIfNeeded: $0), 0x2C] }
        let log = try fixture.receiveLog(on: fixture.peer)
        var outcome: Int?
        _ = fixture.engine.send(fixture.local, buffers: pieces, descriptors: []) {
            if case .sent(let count) = $0 { outcome = count }
        }
        try pump(fixture.engine) { outcome != nil && log.bytes.count >= pieces.count * 2 }
        #expect(outcome == pieces.count * 2)
        #expect(log.bytes == pieces.flatMap { $0 })
    }

    @Test("a send to a peer that went away fails with EPIPE and raises no SIGPIPE")
    func sendToClosedPeer() throws {
        let fixture = try StreamFixture()
        fixture.closePeer()
        // SIGPIPE is blocked in this thread, which runs the send (inline
        // at submission, or as task work when it waits): had the send
        // raised one, it would stay pending here.
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var failure: SystemError?
        var copiedFailure: SystemError?
        #expect(fixture.engine.send(fixture.local, buffers: [[1, 2, 3]], descriptors: []) { result in
            if case .failed(let error) = result { failure = error as? SystemError }
        } == nil)
        try pump(fixture.engine) { failure != nil }
        // The same from the send buffer.
        #expect(fixture.engine.send(fixture.local, bytes: [1, 2, 3]) { result in
            if case .failed(let error) = result { copiedFailure = error as? SystemError }
        } == nil)
        try pump(fixture.engine) { copiedFailure != nil }
        #expect(copiedFailure?.errno == EPIPE)
        try pump(fixture.engine) { failure != nil }
        #expect(failure?.errno == EPIPE)
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0, "the send raised SIGPIPE")
    }

    @Test("descriptors passed with a send arrive as SCM_RIGHTS with its first byte")
    func descriptorsTravelWithTheBytes() throws {
        let fixture = try StreamFixture()
        var pipeEnds: [Int32] = [-1, -1]
        try #require(pipe(&pipeEnds) == 0)
        defer { pipeEnds.forEach { close($0) } }
        var outcome: Int?
        _ = fixture.engine.send(fixture.local, buffers: [[0x2A]], descriptors: [pipeEnds[0]]) {
            if case .sent(let count) = $0 { outcome = count }
        }
        try pump(fixture.engine) { outcome != nil }
        #expect(outcome == 1)
        let byte = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
        let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        let space = RightsMessage.controlSpace(passing: 1)
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: space, alignment: 8)
        defer {
            byte.deallocate()
            vector.deallocate()
            control.deallocate()
        }
        vector.initialize(to: iovec(iov_base: byte.baseAddress, iov_len: 1))
        var message = msghdr()
        message.msg_iov = vector
        message.msg_iovlen = 1
        message.msg_control = control.baseAddress
        message.msg_controllen = space
        #expect(recvmsg(fixture.peer, &message, 0) == 1)
        #expect(byte[0] == 0x2A)
        let header = control.baseAddress!.assumingMemoryBound(to: cmsghdr.self).pointee
        #expect(header.cmsg_level == SOL_SOCKET && header.cmsg_type == Int32(SCM_RIGHTS))
        let passed = control.load(fromByteOffset: space - MemoryLayout<Int>.size, as: Int32.self)
        defer { close(passed) }
        var status = stat()
        #expect(fstat(passed, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
    }

    @Test("the peer's FIN ends the receive with endOfFile, once, after the bytes before it")
    func endOfFile() throws {
        let fixture = try StreamFixture(.tcp)
        let log = try fixture.receiveLog()
        writeText("last words", to: fixture.peer)
        fixture.closePeer()
        try pump(fixture.engine) { log.ending != nil }
        #expect(log.text == "last words")
        #expect(log.ending == "eof")
        #expect(fixture.engine.operationsInFlight(on: fixture.local) == 0)
    }

    @Test("a reset connection ends the receive with the error")
    func resetFails() throws {
        let fixture = try StreamFixture(.tcp)
        let log = try fixture.receiveLog()
        // Linger 0: close sends RST instead of FIN.
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fixture.peer, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        fixture.closePeer()
        try pump(fixture.engine) { log.ending != nil }
        #expect(log.ending == "errno \(ECONNRESET)")
    }

    @Test(
        "unwatch abandons a receive and a send: no handler runs, and every buffer returns to the ring",
        arguments: RingKind.allCases)
    func unwatchAbandons(ring: RingKind) throws {
        let fixture = try StreamFixture(shape: ring.shape(size: 4))
        let (engine, local) = (fixture.engine, fixture.local)
        var calls = 0
        try engine.receive(local) { _ in calls += 1 }
        try engine.wait(timeout: 0)
        writeText("abcdefgh", to: fixture.peer)
        // More than the socket holds, so the send stays in flight.
        let big = [UInt8](repeating: 7, count: 4 << 20)
        _ = engine.send(local, buffers: [big], descriptors: []) { _ in calls += 1 }
        engine.unwatch(local)
        // And a copied send, abandoned the same way on the peer's side.
        _ = engine.send(fixture.peer, bytes: [UInt8](repeating: 8, count: 100)) { _ in calls += 1 }
        engine.unwatch(fixture.peer)
        try pump(engine) {
            engine.operationsInFlight(on: local) == 0 && engine.operationsInFlight(on: fixture.peer) == 0
        }
        #expect(calls == 0)
        #expect(engine.streams.byDescriptor[local] == nil)
        let buffers = try #require(engine.streams.buffers)
        #expect(buffers.availableCount == buffers.bufferCount)
    }

    @Test("receive while receiving replaces the handler without a second multishot receive")
    func receiveReplacesHandler() throws {
        let fixture = try StreamFixture()
        let first = try fixture.receiveLog()
        try fixture.engine.wait(timeout: 0)
        let second = try fixture.receiveLog()
        #expect(fixture.engine.operationsInFlight(on: fixture.local) == 1)
        writeText("hello", to: fixture.peer)
        try pump(fixture.engine) { second.bytes.count >= 5 }
        #expect(first.bytes.isEmpty)
        #expect(second.text == "hello")
    }

    @Test("a receive handler that runs the loop again gets every chunk once, in order, and so does the batch it interrupted")
    func nestedWait() throws {
        let fixture = try StreamFixture()
        let (otherLocal, otherPeer) = try StreamPairKind.unix.makePair()
        defer {
            fixture.engine.unwatch(otherLocal)
            close(otherLocal)
            close(otherPeer)
        }
        let engine = fixture.engine
        let logs = [ReceiveLog(), ReceiveLog()]
        var nested = false
        // Whichever receive hears its first chunk first sends the second
        // chunks and drains them from inside its handler, while the other
        // first chunk still waits in the outer batch.
        func handler(_ log: ReceiveLog) -> (ReceiveResult) -> Void {
            { result in
                log.record(result)
                guard !nested else { return }
                nested = true
                writeText("second", to: fixture.peer)
                writeText("second", to: otherPeer)
                try? engine.wait(timeout: 1)
            }
        }
        try engine.receive(fixture.local, handler: handler(logs[0]))
        try engine.receive(otherLocal, handler: handler(logs[1]))
        writeText("first ", to: fixture.peer)
        writeText("first ", to: otherPeer)
        try pump(engine) { logs.allSatisfy { $0.bytes.count >= 12 } }
        try engine.wait(timeout: 0)
        #expect(nested)
        #expect(logs.map(\.text) == ["first second", "first second"])
    }

    @Test("an empty send finishes at once, without an SQE")
    func emptySend() throws {
        let fixture = try StreamFixture()
        var called = false
        let result = fixture.engine.send(fixture.local, buffers: [[], []], descriptors: []) { _ in called = true }
        guard case .sent(0) = result else {
            Issue.record("expected .sent(0), got \(String(describing: result))")
            return
        }
        #expect(fixture.engine.operationsInFlight(on: fixture.local) == 0)
        #expect(!called)
    }
}
