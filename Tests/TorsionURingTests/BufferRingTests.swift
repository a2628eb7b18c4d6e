import CLibURing
import Glibc
import Testing
import TorsionEngine

@testable import TorsionURing

/// An io_uring of its own, so the buffer ring is tested without an engine.
private final class TestRing {
    let ring = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)

    init() throws {
        let result = io_uring_queue_init(8, ring, 0)
        guard result == 0 else { throw SystemError(errno: -result, call: "io_uring_queue_init") }
    }

    deinit {
        io_uring_queue_exit(ring)
        ring.deallocate()
    }

    /// Submits one receive on `fd` that selects a buffer of `group` and
    /// waits for its completion: (res, flags).
    func receive(_ fd: Int32, group: UInt16) throws -> (Int32, UInt32) {
        let sqe = try #require(io_uring_get_sqe(ring))
        io_uring_prep_recv(sqe, fd, nil, 0, 0)
        sqe.pointee.flags |= BufferRing.selectFlag
        sqe.pointee.buf_group = group
        #expect(io_uring_submit(ring) == 1)
        var cqe: UnsafeMutablePointer<io_uring_cqe>?
        let result = io_uring_wait_cqe(ring, &cqe)
        guard result == 0, let cqe else { throw SystemError(errno: -result, call: "io_uring_wait_cqe") }
        defer { io_uring_cqe_seen(ring, cqe) }
        return (cqe.pointee.res, cqe.pointee.flags)
    }
}

/// A connected pair of UNIX stream sockets.
private func socketPair() throws -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw SystemError(call: "socketpair") }
    return (fds[0], fds[1])
}

private func write(_ text: String, to fd: Int32) {
    let bytes = Array(text.utf8)
    #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
}

/// The buffer id a completion carries, or nil without `IORING_CQE_F_BUFFER`.
private func bufferID(_ flags: UInt32) -> UInt16? {
    flags & IORING_CQE_F_BUFFER != 0 ? UInt16(flags >> IORING_CQE_BUFFER_SHIFT) : nil
}

/// A test ring with a buffer ring registered and a socket pair, all
/// released at the end.
private final class Fixture {
    let test: TestRing
    let buffers: BufferRing
    let local: Int32
    let peer: Int32

    init(groupID: UInt16, bufferCount: Int, bufferSize: Int, incremental: Bool = false) throws {
        test = try TestRing()
        buffers = try BufferRing(
            ring: test.ring, groupID: groupID, bufferCount: bufferCount, bufferSize: bufferSize,
            incremental: incremental)
        (local, peer) = try socketPair()
    }

    /// One receive on `local`, settled as the engine settles it: its
    /// buffer id, its text, and whether the kernel kept the buffer.
    func receiveConsuming() throws -> (id: UInt16?, text: String, kept: Bool) {
        let (result, flags) = try test.receive(local, group: buffers.groupID)
        guard let id = bufferID(flags) else { return (nil, "", false) }
        let kept = flags & BufferRing.kernelKeepsBufferFlag != 0
        let text = buffers.consume(id, count: max(Int(result), 0), kernelKeepsBuffer: kept) {
            String(decoding: $0, as: UTF8.self)
        }
        return (id, text, kept)
    }

    /// One receive on `local`: its result, and the text of the buffer it
    /// filled, which is taken from the ring (the caller recycles it).
    func receive() throws -> (result: Int32, id: UInt16?, text: String) {
        let (result, flags) = try test.receive(local, group: buffers.groupID)
        guard let id = bufferID(flags) else { return (result, nil, "") }
        buffers.take(id)
        return (result, id, String(decoding: buffers.bytes(of: id, count: max(Int(result), 0)), as: UTF8.self))
    }

    deinit {
        buffers.unregister(from: test.ring)
        close(local)
        close(peer)
    }
}

/// Whether this kernel registers incremental buffer rings (Linux 6.12).
let kernelTakesIncrementalRings: Bool = {
    guard let test = try? TestRing(),
        let buffers = try? BufferRing(ring: test.ring, groupID: 0, bufferCount: 1, bufferSize: 8, incremental: true)
    else { return false }
    buffers.unregister(from: test.ring)
    return true
}()

@Suite("Provided buffer ring")
struct BufferRingTests {
    @Test("a receive that selects from the ring gets a buffer holding the bytes read")
    func receiveFillsABuffer() throws {
        let fixture = try Fixture(groupID: 3, bufferCount: 4, bufferSize: 16)
        #expect(fixture.buffers.availableCount == 4)
        write("hello", to: fixture.peer)
        let (result, id, text) = try fixture.receive()
        #expect(result == 5)
        #expect(text == "hello")
        #expect(fixture.buffers.availableCount == 3)
        fixture.buffers.recycle(try #require(id))
        #expect(fixture.buffers.availableCount == 4)
    }

    @Test("a receive is cut at the buffer size; the rest waits for the next buffer")
    func receiveIsCutAtBufferSize() throws {
        let fixture = try Fixture(groupID: 1, bufferCount: 2, bufferSize: 4)
        write("abcdefg", to: fixture.peer)
        var texts: [String] = []
        for _ in 0..<2 {
            let (_, id, text) = try fixture.receive()
            texts.append(text)
            fixture.buffers.recycle(try #require(id))
        }
        #expect(texts == ["abcd", "efg"])
    }

    @Test("an exhausted ring fails receives with ENOBUFS until a buffer is recycled")
    func exhaustionAndRecycling() throws {
        let fixture = try Fixture(groupID: 2, bufferCount: 1, bufferSize: 8)
        write("one", to: fixture.peer)
        let (_, first, firstText) = try fixture.receive()
        #expect(firstText == "one")
        #expect(fixture.buffers.availableCount == 0)
        write("two", to: fixture.peer)
        let (starved, none, _) = try fixture.receive()
        #expect(starved == -ENOBUFS)
        #expect(none == nil)
        fixture.buffers.recycle(try #require(first))
        let (_, second, secondText) = try fixture.receive()
        #expect(second == first)
        #expect(secondText == "two")
        fixture.buffers.recycle(try #require(second))
    }

    @Test("every buffer of the ring is handed out once before any comes round again")
    func everyBufferIsUsed() throws {
        let fixture = try Fixture(groupID: 4, bufferCount: 8, bufferSize: 2)
        var seen = Set<UInt16>()
        for round in 0..<8 {
            write("\(round)", to: fixture.peer)
            let (_, id, text) = try fixture.receive()
            #expect(text == "\(round)")
            seen.insert(try #require(id))
            fixture.buffers.recycle(try #require(id))
        }
        #expect(seen == Set(0..<8))
    }

    @Test("a count that is not a power of two, or a size out of range, is refused with a named error")
    func badShapesAreRefused() throws {
        let test = try TestRing()
        for count in [0, 3, BufferRing.maximumBufferCount * 2] {
            #expect(throws: BufferRingConfigurationError.bufferCount(count)) {
                _ = try BufferRing(ring: test.ring, groupID: 0, bufferCount: count, bufferSize: 16)
            }
        }
        for size in [0, BufferRing.maximumBufferSize + 1] {
            #expect(throws: BufferRingConfigurationError.bufferSize(size)) {
                _ = try BufferRing(ring: test.ring, groupID: 0, bufferCount: 2, bufferSize: size)
            }
        }
    }

    @Test(
        "an incremental ring packs receives into one buffer, each where the last stopped, and gives it back full",
        .enabled(if: kernelTakesIncrementalRings))
    func incrementalRingPacksReceives() throws {
        let fixture = try Fixture(groupID: 5, bufferCount: 2, bufferSize: 8, incremental: true)
        #expect(fixture.buffers.isIncremental)
        var received: [(id: UInt16?, text: String, kept: Bool)] = []
        for text in ["abc", "def", "ghij"] {
            write(text, to: fixture.peer)
            received.append(try fixture.receiveConsuming())
        }
        // Three bytes, three more, then the two that fill the first buffer
        // (which goes back); the last two wait in the socket for the
        // next receive, which takes them into the second buffer.
        received.append(try fixture.receiveConsuming())
        let first = try #require(received[0].id)
        let second = try #require(received[3].id)
        #expect(received.map(\.text) == ["abc", "def", "gh", "ij"])
        #expect(received.map(\.id) == [first, first, first, second])
        #expect(second != first)
        #expect(received.map(\.kept) == [true, true, false, true])
        // The second buffer is still the kernel's, partly filled; the first
        // is back in the ring.
        #expect(fixture.buffers.availableCount == 2)
    }

    @Test(
        "a ring asked to be incremental is refused with EINVAL by a kernel that has none, and nothing stays registered",
        .enabled(if: !kernelTakesIncrementalRings))
    func incrementalRingRefusedByOldKernels() throws {
        let test = try TestRing()
        #expect(throws: SystemError(errno: EINVAL, call: "io_uring_register_buf_ring")) {
            _ = try BufferRing(ring: test.ring, groupID: 6, bufferCount: 2, bufferSize: 8, incremental: true)
        }
        let plain = try BufferRing(ring: test.ring, groupID: 6, bufferCount: 2, bufferSize: 8)
        #expect(!plain.isIncremental)
        plain.unregister(from: test.ring)
    }

    @Test("a group id already registered is refused with EEXIST; unregistering frees it")
    func groupIDInUse() throws {
        let test = try TestRing()
        let first = try BufferRing(ring: test.ring, groupID: 9, bufferCount: 2, bufferSize: 8)
        #expect(throws: SystemError(errno: EEXIST, call: "io_uring_register_buf_ring")) {
            _ = try BufferRing(ring: test.ring, groupID: 9, bufferCount: 2, bufferSize: 8)
        }
        first.unregister(from: test.ring)
        let second = try BufferRing(ring: test.ring, groupID: 9, bufferCount: 2, bufferSize: 8)
        second.unregister(from: test.ring)
    }
}
