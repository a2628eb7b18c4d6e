import CLibURing
import Glibc
import TorsionEngine

/// A provided buffer ring: a group of equally sized receive buffers the
/// kernel picks from when a receive SQE carries `IOSQE_BUFFER_SELECT` and
/// this ring's ``groupID``, so a multishot receive needs no buffer of its
/// own while it waits.
///
/// Set up by hand because liburing 2.3 has no `io_uring_setup_buf_ring`:
/// page-aligned memory for the ring entries (the kernel pins those pages),
/// `io_uring_buf_ring_init`, `io_uring_register_buf_ring`, then every buffer
/// is added and the tail published once. A completion that used a buffer
/// names it (`IORING_CQE_F_BUFFER`, id in the upper 16 bits of the flags);
/// the buffer is the engine's until ``recycle(_:)`` hands it back, which
/// the stream code does right after the protocol's `dataReceived`.
///
/// The kernel consumes from the head and we append at the tail, so
/// buffers come back in any order: the ring stores each buffer's id
/// beside its address, and ids are positions in one contiguous block.
///
/// An *incremental* ring (`IOU_PBUF_RING_INC`, Linux 6.12) lets one buffer
/// serve several receives: each takes only the bytes it needs, from where
/// the last one stopped, and the buffer stays at the head until it is
/// full. A completion then says `IORING_CQE_F_BUF_MORE` while the kernel
/// keeps the buffer, and the bytes are at the offset this object tracks
/// (the kernel fills a buffer front to back, and its completions arrive in
/// that order). So large buffers cost nothing for small messages, which
/// pack into one buffer, while a bulk receive still gets a large chunk per
/// completion. ``consume(_:count:kernelKeepsBuffer:_:)`` handles both
/// kinds of ring.
///
/// Loop thread only: the tail is written without a lock, and the kernel
/// only reads it.
package final class BufferRing {
    /// The buffer group id receive SQEs name in `buf_group`.
    package let groupID: UInt16
    /// Number of buffers; a power of two, as the kernel's ring mask needs.
    package let bufferCount: Int
    /// Bytes per buffer, the most one receive completion can carry.
    package let bufferSize: Int
    /// The ring entries shared with the kernel, one page-aligned block.
    private let entries: UnsafeMutablePointer<io_uring_buf_ring>
    /// The buffers, back to back: buffer `id` starts at `id * bufferSize`.
    private let storage: UnsafeMutableRawPointer
    /// Whether each buffer is out of the ring (lent to a completion).
    @exclusivity(unchecked) private var lent: [Bool]
    /// Bytes of each buffer the kernel has filled and completions have
    /// reported so far; the next completion's bytes start there. Stays
    /// zero on a ring that is not incremental.
    @exclusivity(unchecked) private var consumed: [Int]
    /// Whether the kernel consumes this ring's buffers incrementally
    /// (`IOU_PBUF_RING_INC`), as asked and as the kernel accepted.
    package let isIncremental: Bool
    /// Set from registration until ``unregister(from:)``: while the kernel
    /// knows the memory it must not be freed.
    @exclusivity(unchecked) private var registered = false

    /// Buffers the kernel can pick from now; zero means the next receive
    /// completes with `ENOBUFS`.
    @exclusivity(unchecked) package private(set) var availableCount: Int

    /// The most buffers one ring holds: the kernel refuses rings above
    /// 32768 entries (`io_register_pbuf_ring`), and ids are 16 bits.
    package static let maximumBufferCount = 32_768

    /// The largest buffer: a receive's length is an `unsigned int` in the
    /// ring entry, but a 1 GiB chunk per completion is already more than
    /// any socket buffer holds.
    package static let maximumBufferSize = 1 << 30

    /// The SQE flag that makes a receive pick its buffer from the group in
    /// `buf_group` (`IOSQE_BUFFER_SELECT`, a macro Swift does not import).
    package static let selectFlag = UInt8(1 << IOSQE_BUFFER_SELECT_BIT)

    /// The registration flag for incremental consumption,
    /// `IOU_PBUF_RING_INC` (Linux 6.12; liburing 2.3's headers predate it,
    /// so the value is the kernel's, and the registration's flags go in
    /// the field those headers call `pad`).
    static let incrementalFlag: UInt16 = 2

    /// The completion flag of an incremental ring saying the kernel keeps
    /// the buffer for more bytes, `IORING_CQE_F_BUF_MORE` (Linux 6.12).
    package static let kernelKeepsBufferFlag: UInt32 = 1 << 4

    /// Allocates `bufferCount` buffers of `bufferSize` bytes, registers them
    /// with `ring` under `groupID` and makes every one available. With
    /// `incremental`, the kernel is asked to consume them incrementally.
    ///
    /// - Throws: ``BufferRingConfigurationError`` for a count that is not a
    ///   power of two in 1...``maximumBufferCount`` or a size outside
    ///   1...``maximumBufferSize``; ``SystemError`` when memory cannot be
    ///   had or the kernel refuses the registration (`EEXIST` for a group id
    ///   in use, `EINVAL` on kernels before 5.19, or before 6.12 for an
    ///   incremental ring). Nothing stays allocated or registered then.
    package init(
        ring: UnsafeMutablePointer<io_uring>, groupID: UInt16, bufferCount: Int, bufferSize: Int,
        incremental: Bool = false
    ) throws {
        guard bufferCount > 0, bufferCount <= Self.maximumBufferCount, bufferCount & (bufferCount - 1) == 0 else {
            throw BufferRingConfigurationError.bufferCount(bufferCount)
        }
        guard bufferSize > 0, bufferSize <= Self.maximumBufferSize else {
            throw BufferRingConfigurationError.bufferSize(bufferSize)
        }
        let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        var ringMemory: UnsafeMutableRawPointer?
        let ringBytes = bufferCount * MemoryLayout<io_uring_buf>.stride
        var code = posix_memalign(&ringMemory, pageSize, ringBytes)
        guard code == 0, let ringMemory else { throw SystemError(errno: code, call: "posix_memalign") }
        var bufferMemory: UnsafeMutableRawPointer?
        code = posix_memalign(&bufferMemory, pageSize, bufferCount * bufferSize)
        guard code == 0, let bufferMemory else {
            free(ringMemory)
            throw SystemError(errno: code, call: "posix_memalign")
        }
        ringMemory.initializeMemory(as: UInt8.self, repeating: 0, count: ringBytes)
        entries = ringMemory.bindMemory(to: io_uring_buf_ring.self, capacity: 1)
        storage = bufferMemory
        self.groupID = groupID
        self.bufferCount = bufferCount
        self.bufferSize = bufferSize
        lent = Array(repeating: false, count: bufferCount)
        consumed = Array(repeating: 0, count: bufferCount)
        isIncremental = incremental
        availableCount = 0

        io_uring_buf_ring_init(entries)
        var registration = io_uring_buf_reg()
        registration.ring_addr = UInt64(UInt(bitPattern: ringMemory))
        registration.ring_entries = UInt32(bufferCount)
        registration.bgid = groupID
        if incremental { registration.pad = Self.incrementalFlag }
        let result = io_uring_register_buf_ring(ring, &registration, 0)
        guard result == 0 else {
            // deinit frees both blocks: nothing is registered.
            throw SystemError(errno: -result, call: "io_uring_register_buf_ring")
        }
        registered = true
        for id in 0..<bufferCount {
            add(UInt16(id), at: Int32(id))
        }
        // One release store publishes every entry written above.
        io_uring_buf_ring_advance(entries, Int32(bufferCount))
        availableCount = bufferCount
    }

    deinit {
        // A ring still registered may be written by the kernel: its
        // memory is left alone (leaked) rather than freed under it. The
        // engine unregisters before it lets go, so this does not happen.
        guard !registered else { return }
        free(UnsafeMutableRawPointer(entries))
        free(storage)
    }

    /// Records that the completion carrying buffer `id` holds it: it left
    /// the ring. Call once per completion with `IORING_CQE_F_BUFFER`.
    package func take(_ id: UInt16) {
        precondition(Int(id) < bufferCount && !lent[Int(id)], "buffer \(id) taken twice")
        lent[Int(id)] = true
        availableCount -= 1
    }

    /// The first `count` bytes of buffer `id`, which must be taken and
    /// not yet recycled; valid until ``recycle(_:)``.
    package func bytes(of id: UInt16, count: Int) -> UnsafeRawBufferPointer {
        precondition(Int(id) < bufferCount && lent[Int(id)], "buffer \(id) is not lent")
        precondition(count >= 0 && count <= bufferSize, "\(count) bytes do not fit a \(bufferSize)-byte buffer")
        return UnsafeRawBufferPointer(start: storage + Int(id) * bufferSize, count: count)
    }

    /// Hands `body` the `count` bytes a completion reported in buffer `id`
    /// and settles the buffer: when the kernel keeps it (an incremental
    /// ring's `IORING_CQE_F_BUF_MORE`), the next completion's bytes follow
    /// these; otherwise the buffer is taken and given back to the ring once
    /// `body` returns, so `body` must copy what it keeps. Call once per
    /// completion with `IORING_CQE_F_BUFFER`, with `count` zero for one
    /// that carried no bytes (an end of stream or an error).
    package func consume<Result>(
        _ id: UInt16, count: Int, kernelKeepsBuffer: Bool, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        let index = Int(id)
        precondition(index < bufferCount, "buffer \(id) is not in the ring")
        precondition(
            !kernelKeepsBuffer || isIncremental, "the kernel kept buffer \(id) of a ring that is not incremental")
        let offset = consumed[index]
        precondition(
            count >= 0 && offset + count <= bufferSize,
            "\(count) bytes at \(offset) overrun a \(bufferSize)-byte buffer")
        if !kernelKeepsBuffer { take(id) }
        let result = body(UnsafeRawBufferPointer(start: storage + index * bufferSize + offset, count: count))
        if kernelKeepsBuffer {
            consumed[index] = offset + count
        } else {
            consumed[index] = 0
            recycle(id)
        }
        return result
    }

    /// Gives buffer `id` back to the kernel, at the tail of the ring.
    package func recycle(_ id: UInt16) {
        precondition(Int(id) < bufferCount && lent[Int(id)], "buffer \(id) recycled but not lent")
        lent[Int(id)] = false
        add(id, at: 0)
        io_uring_buf_ring_advance(entries, 1)
        availableCount += 1
    }

    /// Tells the kernel to forget the ring; after this the memory is freed
    /// when the ring is released. Call once no receive that selects from
    /// this group is in flight (or when the io_uring itself is torn down).
    package func unregister(from ring: UnsafeMutablePointer<io_uring>) {
        guard registered else { return }
        // Fails only for a group that is not registered, or with the
        // io_uring already closed: either way the kernel no longer holds
        // the memory.
        _ = io_uring_unregister_buf_ring(ring, Int32(groupID))
        registered = false
    }

    /// Writes the entry for buffer `id` at `offset` past the current tail
    /// (not yet visible to the kernel).
    private func add(_ id: UInt16, at offset: Int32) {
        io_uring_buf_ring_add(
            entries, storage + Int(id) * bufferSize, UInt32(bufferSize), id,
            io_uring_buf_ring_mask(UInt32(bufferCount)), offset)
    }
}

/// A buffer ring asked for with a shape the kernel cannot take.
package enum BufferRingConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The count is not a power of two in 1...``BufferRing/maximumBufferCount``.
    case bufferCount(Int)
    /// The size is not in 1...``BufferRing/maximumBufferSize``.
    case bufferSize(Int)

    package var description: String {
        switch self {
        case .bufferCount(let count):
            "a buffer ring holds a power of two of at most \(BufferRing.maximumBufferCount) buffers, not \(count)"
        case .bufferSize(let size):
            "a ring buffer holds 1 to \(BufferRing.maximumBufferSize) bytes, not \(size)"
        }
    }
}
