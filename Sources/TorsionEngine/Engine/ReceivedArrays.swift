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
/// Value semantics hold because storage is reused only when this struct
/// holds the sole reference. Memory stays bounded: at most
/// ``spareCount`` arrays are kept, and storage is reused only when the new
/// bytes fill at least a quarter of it, so an array kept later never holds
/// more than four times its bytes.
///
/// One per engine; loop thread only.
package struct ReceivedArrays {
    /// How many arrays are kept for reuse.
    package static var spareCount: Int { 8 }

    /// Arrays handed out, each the only reference to its storage once
    /// its receiver let go.
    private var spares: [[UInt8]] = []
    /// Where the next new array goes once ``spares`` is full (round robin).
    private var nextReplaced = 0

    package init() {}

    /// An array holding a copy of `bytes`.
    package mutating func makeArray(copying bytes: UnsafeRawBufferPointer) -> [UInt8] {
        for index in spares.indices {
            let capacity = spares[index].capacity
            guard bytes.count <= capacity, bytes.count * 4 >= capacity, isUniquelyReferenced(index) else {
                continue
            }
            return spares.withUnsafeMutableBufferPointer { spares in
                if bytes.count == spares[index].count {
                    // The usual case of a request-response protocol: the
                    // same size again, so the bytes are copied over in
                    // place (the generic remove-and-append costs more than
                    // the copy).
                    spares[index].withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
                } else {
                    spares[index].removeAll(keepingCapacity: true)
                    spares[index].append(contentsOf: bytes)
                }
                return spares[index]
            }
        }
        let array = [UInt8](bytes)
        if spares.count < Self.spareCount {
            spares.append(array)
        } else {
            spares[nextReplaced] = array
            nextReplaced = (nextReplaced + 1) % Self.spareCount
        }
        return array
    }

    /// Whether `spares[index]` is the only reference to its storage.
    ///
    /// The standard library has no public uniqueness test for an array,
    /// and every mutating call that would reveal it copies shared storage
    /// (allocating, which is what this type avoids). Without Objective-C
    /// bridging, as on Linux, an `Array` is exactly one strong reference to
    /// its storage object, so the reference itself is tested; the check
    /// below guards that layout. It is tested as an `AnyObject?`: with a
    /// plain `AnyObject`, an unoptimized Swift 6 build passes a copy and
    /// always answers `false`.
    private mutating func isUniquelyReferenced(_ index: Int) -> Bool {
        precondition(
            MemoryLayout<[UInt8]>.size == MemoryLayout<AnyObject?>.size,
            "an array is expected to be one reference to its storage")
        return spares.withUnsafeMutableBufferPointer { spares in
            (spares.baseAddress! + index).withMemoryRebound(to: AnyObject?.self, capacity: 1) {
                isKnownUniquelyReferenced(&$0.pointee)
            }
        }
    }
}
