/// Makes the arrays that received bytes are delivered in, reusing the
/// storage of the previous one when nobody kept it.
///
/// `dataReceived` takes an array the protocol owns, so each read is copied
/// out of the engine's buffer. Most protocols let go of that array before
/// they return: an echo writes it through, a line or length-prefix parser
/// copies what it needs. Allocating and freeing an array per read was then
/// the largest single cost of a small message in user space. So the
/// engine keeps the last array it handed out, and when that array is
/// uniquely referenced again by the next read, the next bytes are copied
/// into its storage instead of a new one. An array a protocol kept is never
/// touched: it is shared, so a new array is made and becomes the spare.
///
/// Value semantics hold because storage is reused only when this struct
/// holds the sole reference. Memory stays bounded because storage is
/// reused only when the new bytes fill at least a quarter of it, so an
/// array kept later never holds more than four times its bytes.
///
/// One per engine; loop thread only.
package struct ReceivedArrays {
    /// The array handed out last; the only reference to it once its
    /// receiver let go.
    private var spare: [UInt8] = []

    package init() {}

    /// An array holding a copy of `bytes`.
    package mutating func makeArray(copying bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let capacity = spare.capacity
        if bytes.count <= capacity, bytes.count * 4 >= capacity, spareIsUniquelyReferenced() {
            if bytes.count == spare.count {
                // The usual case of a request-response protocol: the same
                // size again, so the bytes are copied over in place (the
                // generic remove-and-append costs more than the copy).
                spare.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
            } else {
                spare.removeAll(keepingCapacity: true)
                spare.append(contentsOf: bytes)
            }
        } else {
            spare = [UInt8](bytes)
        }
        return spare
    }

    /// Whether ``spare`` is the only reference to its storage.
    ///
    /// The standard library has no public uniqueness test for an array,
    /// and every mutating call that would reveal it copies shared storage
    /// (allocating, which is what this type avoids). Without Objective-C
    /// bridging, as on Linux, an `Array` is exactly one strong reference to
    /// its storage object, so the reference itself is tested; the check
    /// below guards that layout. It is tested as an `AnyObject?`: with a
    /// plain `AnyObject`, an unoptimized Swift 6 build passes a copy and
    /// always answers `false`.
    private mutating func spareIsUniquelyReferenced() -> Bool {
        precondition(
            MemoryLayout<[UInt8]>.size == MemoryLayout<AnyObject?>.size,
            "an array is expected to be one reference to its storage")
        return withUnsafeMutablePointer(to: &spare) { array in
            array.withMemoryRebound(to: AnyObject?.self, capacity: 1) { isKnownUniquelyReferenced(&$0.pointee) }
        }
    }
}
