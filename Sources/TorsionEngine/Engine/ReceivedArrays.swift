/// Makes the arrays that received bytes are delivered in, reusing the
/// storage of earlier ones that nobody kept.
///
/// `dataReceived` takes an array the protocol owns, so each read is copied
/// out of the engine's buffer. Most protocols let go of that array soon:
/// an echo writes it through, a line or length-prefix parser copies what
/// it needs. Allocating and freeing an array per read was then the largest
/// single cost of a small message in user space, and for bulk transfers
/// the churn of large arrays made the allocator give memory back to the
/// system and take it again (a `brk` and fresh zeroed pages per chunk).
/// So the engine keeps the last few arrays it handed out, and when one of
/// them is uniquely referenced again, the next bytes are copied into its
/// storage instead of a new one. Several, not one: a send that is still in
/// flight holds its array for a while, and a bulk stream has a few of
/// those at a time. An array a protocol kept is never touched: it is
/// shared, so it is skipped.
///
/// Value semantics hold because storage is reused only when this object
/// holds the sole reference. Memory stays bounded: at most
/// ``spareCount`` arrays are kept, and storage is reused only when the new
/// bytes fill at least a quarter of it, so an array kept later never holds
/// more than four times its bytes.
///
/// The spares live in a fixed block of slots, not an `Array` of arrays:
/// every mutation of an outer array first tests its own uniqueness, which
/// was two extra runtime calls per read. The search starts at the slot
/// reused last, which a request-response connection finds free again.
///
/// One per engine; loop thread only.
package final class ReceivedArrays {
    /// How many arrays are kept for reuse.
    package static var spareCount: Int { 8 }

    /// Arrays handed out, each the only reference to its storage once its
    /// receiver let go; the first ``filled`` slots are initialized.
    private let spares = UnsafeMutablePointer<[UInt8]>.allocate(capacity: ReceivedArrays.spareCount)
    /// Slots initialized so far (they fill up once, then stay full).
    private var filled = 0
    /// Where the next new array goes once every slot is filled (round robin).
    private var nextReplaced = 0
    /// The slot whose storage was reused last: tried first.
    private var lastReused = 0

    package init() {
        precondition(
            MemoryLayout<[UInt8]>.size == MemoryLayout<AnyObject?>.size,
            "an array is expected to be one reference to its storage")
    }

    deinit {
        spares.deinitialize(count: filled)
        spares.deallocate()
    }

    /// An array holding a copy of `bytes`.
    package func makeArray(copying bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var index = lastReused
        for _ in 0..<filled {
            if reuses(index, for: bytes) {
                lastReused = index
                return spares[index]
            }
            index = index + 1 == filled ? 0 : index + 1
        }
        let array = [UInt8](bytes)
        if filled < Self.spareCount {
            (spares + filled).initialize(to: array)
            filled += 1
        } else {
            spares[nextReplaced] = array
            nextReplaced = (nextReplaced + 1) % Self.spareCount
        }
        return array
    }

    /// Copies `bytes` into the storage of the array in slot `index` when
    /// its receiver let go of it and it is the right size for them.
    private func reuses(_ index: Int, for bytes: UnsafeRawBufferPointer) -> Bool {
        let capacity = spares[index].capacity
        guard bytes.count <= capacity, bytes.count * 4 >= capacity, isUniquelyReferenced(index) else {
            return false
        }
        if bytes.count == spares[index].count {
            // The usual case of a request-response protocol: the same size
            // again, so the bytes are copied over in place (the generic
            // remove-and-append costs more than the copy).
            spares[index].withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
        } else {
            spares[index].removeAll(keepingCapacity: true)
            spares[index].append(contentsOf: bytes)
        }
        return true
    }

    /// Whether the array in slot `index` is the only reference to its
    /// storage.
    ///
    /// The standard library has no public uniqueness test for an array,
    /// and every mutating call that would reveal it copies shared storage
    /// (allocating, which is what this type avoids). Without Objective-C
    /// bridging, as on Linux, an `Array` is exactly one strong reference to
    /// its storage object, so the reference itself is tested; ``init()``
    /// guards that layout. It is tested as an `AnyObject?`: with a plain
    /// `AnyObject`, an unoptimized Swift 6 build passes a copy and always
    /// answers `false`.
    private func isUniquelyReferenced(_ index: Int) -> Bool {
        UnsafeMutableRawPointer(spares + index).withMemoryRebound(to: AnyObject?.self, capacity: 1) {
            isKnownUniquelyReferenced(&$0.pointee)
        }
    }
}
