/// The payload every connection sends: a pseudo-random byte stream that
/// depends on the connection and on the stream offset, so a byte that
/// comes back at the wrong offset or on the wrong connection is caught.
///
/// One table of `period + maxChunk` bytes serves every connection:
/// connection `c` sends at offset `o` the byte at
/// `(shift(c) + o) % period`. The period is prime, so a server that drops
/// or repeats a power-of-two amount of data still produces wrong bytes,
/// and the `maxChunk` tail repeats the start so any slice of up to
/// `maxChunk` bytes is contiguous: writes go straight from the table and
/// checks are one `memcmp`, with no copy and no allocation per message.
///
/// Immutable after creation; owned by one load run.
final class LoadPattern {
    /// 65,521 is the largest prime below 2^16.
    static let period = 65_521
    /// The largest read or write of the generator.
    static let maxChunk = 256 * 1024

    let bytes: UnsafeMutableRawPointer

    init() {
        let total = Self.period + Self.maxChunk
        bytes = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)
        // xorshift64 (Marsaglia 2003) with a fixed seed: the same stream in
        // every run.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<Self.period {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes.storeBytes(of: UInt8(truncatingIfNeeded: state >> 24), toByteOffset: index, as: UInt8.self)
        }
        for index in Self.period..<total {
            bytes.storeBytes(of: bytes.load(fromByteOffset: index % Self.period, as: UInt8.self), toByteOffset: index, as: UInt8.self)
        }
    }

    deinit { bytes.deallocate() }

    /// Where connection `connection`'s stream starts in the table.
    static func shift(connection: Int) -> Int {
        // A multiplicative hash spreads neighbouring connections far apart.
        Int((UInt64(connection) &* 2_654_435_761) % UInt64(period))
    }

    /// The table position of offset `offset` of a stream starting at `shift`.
    @inline(__always)
    static func position(shift: Int, offset: Int) -> Int { (shift + offset) % period }
}
