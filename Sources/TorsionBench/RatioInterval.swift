import TorsionCore

/// How far a ratio of medians can be trusted: a percentile bootstrap over
/// the rounds of a run.
///
/// On a shared machine one server's rate moves by 10–20 % from round to
/// round, so two servers whose true rates differ by a few percent come out
/// either way round in a run of ten. The interval says whether a run
/// resolves the difference it reports: when it straddles 1, the run cannot
/// tell the two servers apart, however the ratio of medians fell.
enum RatioInterval {
    /// The share of resampled ratios the interval holds.
    static let level = 0.9
    /// Resamples per interval. With ten rounds of a shared machine the
    /// bounds then move by about 0.005 (one standard deviation) from seed
    /// to seed, small beside the interval's width, typically 0.1–0.3.
    static let resamples = 2_000
    /// Fewer rounds than this (on either side) give no interval: with one
    /// or two the resamples can only repeat them.
    static let minimumRounds = 3
    /// The generator's seed: fixed, so the same rounds always give the
    /// same interval and a report read back from its JSON matches the table
    /// printed at the end of the run.
    static let seed: UInt64 = 0x7435_7219_0D1E_F00D

    /// The central ``level`` interval of the ratio of `rates`' lower median
    /// to `reference`'s, both keyed by round, over resamples of the rounds
    /// (with replacement). A resampled round brings both servers' results,
    /// so what the two shared in a round stays together; a round one of
    /// them failed brings only the other's. `nil` when either has fewer
    /// than ``minimumRounds`` results.
    static func ofMedians(_ rates: [Int: Double], over reference: [Int: Double]) -> ClosedRange<Double>? {
        guard rates.count >= minimumRounds, reference.count >= minimumRounds else { return nil }
        let rounds = Set(rates.keys).union(reference.keys).sorted()
        var generator = SplitMix64(seed: seed)
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        var sample: [Double] = []
        var referenceSample: [Double] = []
        for _ in 0..<resamples {
            sample.removeAll(keepingCapacity: true)
            referenceSample.removeAll(keepingCapacity: true)
            for _ in rounds.indices {
                let round = rounds[Int.random(in: rounds.indices, using: &generator)]
                if let rate = rates[round] { sample.append(rate) }
                if let rate = reference[round] { referenceSample.append(rate) }
            }
            guard let median = lowerMedian(&sample), let referenceMedian = lowerMedian(&referenceSample),
                referenceMedian > 0
            else { continue }
            ratios.append(median / referenceMedian)
        }
        guard !ratios.isEmpty else { return nil }
        ratios.sort()
        let tail = (1 - level) / 2
        let last = Double(ratios.count - 1)
        return ratios[Int((tail * last).rounded())]...ratios[Int(((1 - tail) * last).rounded())]
    }

    /// The lower median of `values` (sorted in place), as the table's
    /// median round is; `nil` when empty.
    static func lowerMedian(_ values: inout [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        values.sort()
        return values[(values.count - 1) / 2]
    }
}
