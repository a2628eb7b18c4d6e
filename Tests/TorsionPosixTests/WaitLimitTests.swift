import Testing

@testable import TorsionPosix

@Suite("Wait bounds of the timeval pollers")
struct WaitLimitTests {
    @Test("wait bounds are rounded up to the microsecond and clamped to 10^8 seconds")
    func bounds() {
        let small = waitLimit(0.0000001)
        #expect(small.seconds == 0 && small.microseconds == 1)
        let usual = waitLimit(2.5)
        #expect(usual.seconds == 2 && usual.microseconds == 500_000)
        let huge = waitLimit(1e12)
        #expect(huge.seconds == 100_000_000 && huge.microseconds == 0)
        let infinite = waitLimit(.infinity)
        #expect(infinite.seconds == 100_000_000)
        let negative = waitLimit(-3)
        #expect(negative.seconds == 0 && negative.microseconds == 0)
    }
}
