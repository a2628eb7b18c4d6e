/// A log-linear histogram of non-negative integers (latencies in
/// nanoseconds): exact below 128, then 128 equal-width sub-buckets per
/// power of two, so any recorded value is reported within 1/256 (< 0.4 %)
/// of itself. Memory is fixed (7,424 counters, 58 KiB) whatever is
/// recorded, and `record` neither allocates nor branches on the history,
/// which keeps it cheap on the load generator's hot path.
///
/// Not thread-safe: one owner records and reads (the load generator's thread).
public struct Histogram: Sendable {
    /// Sub-buckets per power of two: 2^7 = 128 gives a relative width of
    /// 1/128, hence a midpoint error of at most 1/256.
    static let subBucketBits = 7
    static let subBucketCount = 1 << subBucketBits
    /// Exact buckets 0..<128, then one row of 128 per exponent 7...63.
    static let bucketCount = subBucketCount + (64 - subBucketBits) * subBucketCount

    private var counts: [UInt64]
    /// The number of values recorded since creation or the last `reset`.
    public private(set) var count: Int = 0

    /// Creates an empty histogram; its memory is allocated here once.
    public init() {
        counts = Array(repeating: 0, count: Self.bucketCount)
    }

    /// The bucket holding `value`.
    static func bucketIndex(_ value: UInt64) -> Int {
        if value < UInt64(subBucketCount) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let shift = exponent - subBucketBits
        let sub = Int(value >> UInt64(shift)) - subBucketCount
        return subBucketCount + shift * subBucketCount + sub
    }

    /// The smallest value of bucket `index` and the bucket's width.
    static func bucketRange(_ index: Int) -> (lower: UInt64, width: UInt64) {
        if index < subBucketCount { return (UInt64(index), 1) }
        let shift = (index - subBucketCount) / subBucketCount
        let sub = (index - subBucketCount) % subBucketCount
        return (UInt64(subBucketCount + sub) << UInt64(shift), UInt64(1) << UInt64(shift))
    }

    /// Counts one value. Allocation-free.
    public mutating func record(_ value: UInt64) {
        counts[Self.bucketIndex(value)] &+= 1
        count += 1
    }

    /// Forgets every recorded value, keeping the memory.
    public mutating func reset() {
        for index in counts.indices { counts[index] = 0 }
        count = 0
    }

    /// The value at quantile `quantile` (0...1, clamped): the midpoint of
    /// the bucket holding the ⌈quantile × count⌉-th smallest value; 0 when
    /// nothing was recorded.
    public func percentile(_ quantile: Double) -> Double {
        guard count > 0 else { return 0 }
        let clamped = min(max(quantile, 0), 1)
        let rank = max(1, UInt64((clamped * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in counts.indices where counts[index] != 0 {
            seen += counts[index]
            if seen >= rank {
                let (lower, width) = Self.bucketRange(index)
                return Double(lower) + Double(width - 1) / 2
            }
        }
        return 0
    }
}
