import Testing

@testable import TorsionBench

@Suite("Log-linear latency histogram")
struct HistogramTests {
    @Test("percentiles of a known uniform distribution are within 1 %")
    func uniformPercentiles() {
        var histogram = Histogram()
        for value in UInt64(1)...100_000 { histogram.record(value * 1000) }
        #expect(histogram.count == 100_000)
        for (quantile, exact) in [(0.5, 50_000_000.0), (0.99, 99_000_000.0), (0.999, 99_900_000.0)] {
            let measured = histogram.percentile(quantile)
            #expect(abs(measured - exact) / exact < 0.01, "quantile \(quantile): \(measured) vs \(exact)")
        }
    }

    @Test("values below 128 are exact; an empty histogram reports 0; reset forgets")
    func exactAndEmpty() {
        var histogram = Histogram()
        #expect(histogram.percentile(0.5) == 0)
        for value: UInt64 in [3, 3, 3, 100] { histogram.record(value) }
        #expect(histogram.percentile(0.5) == 3)
        #expect(histogram.percentile(1) == 100)
        histogram.reset()
        #expect(histogram.count == 0 && histogram.percentile(0.99) == 0)
    }

    @Test("every bucket maps back around its values, up to the largest UInt64")
    func bucketBounds() {
        for value: UInt64 in [0, 127, 128, 129, 255, 256, 1_000_003, 1 << 40, UInt64.max] {
            let index = Histogram.bucketIndex(value)
            #expect(index < Histogram.bucketCount)
            let (lower, width) = Histogram.bucketRange(index)
            #expect(value >= lower && value - lower < width)
            #expect(Double(width) / Double(max(lower, 1)) <= 1.0 / 128 || value < 128)
        }
    }

    @Test("a skewed distribution: p99 and p999 land on the tail")
    func tail() {
        var histogram = Histogram()
        for _ in 0..<990 { histogram.record(10_000) }
        for _ in 0..<9 { histogram.record(1_000_000) }
        histogram.record(50_000_000)
        #expect(abs(histogram.percentile(0.5) - 10_000) / 10_000 < 0.01)
        #expect(abs(histogram.percentile(0.99) - 10_000) / 10_000 < 0.01)
        #expect(abs(histogram.percentile(0.995) - 1_000_000) / 1_000_000 < 0.01)
        #expect(abs(histogram.percentile(1) - 50_000_000) / 50_000_000 < 0.01)
    }
}
