/// A small seedable random number generator (Steele, Lea and Flood's
/// SplitMix64), for the package's own reproducible randomness: fuzz tests
/// that replay from their seed, and `torsion bench`'s bootstrap intervals,
/// which must come out the same from the same rounds. The standard
/// library's only generator is the system's, which cannot be seeded.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
