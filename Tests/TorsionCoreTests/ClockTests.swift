import Testing
import TorsionCore

@Suite("Clock")
struct ClockTests {
    @Test("time starts at 0 and moves only when advanced")
    func timeMovesOnAdvance() {
        let clock = Clock()
        #expect(clock.seconds() == 0)
        clock.advance(1.5)
        clock.advance(.milliseconds(500))
        #expect(clock.seconds() == 2)
        #expect(clock.rightNow == 2)
    }

    @Test("advance runs the due calls earliest first and leaves the others")
    func advanceRunsDueInOrder() {
        let clock = Clock()
        var ran: [String] = []
        clock.callLater(3) { ran.append("3") }
        clock.callLater(1) { ran.append("1") }
        clock.callLater(2) { ran.append("2a") }
        clock.callLater(.seconds(2)) { ran.append("2b") }
        clock.advance(2)
        #expect(ran == ["1", "2a", "2b"])
        #expect(clock.getDelayedCalls().count == 1)
        clock.advance(1)
        #expect(ran == ["1", "2a", "2b", "3"])
    }

    @Test("calls run with the clock already at the advanced time")
    func callsSeeFinalTime() {
        let clock = Clock()
        var seen: [Double] = []
        clock.callLater(1) { seen.append(clock.seconds()) }
        clock.callLater(2) { seen.append(clock.seconds()) }
        clock.advance(5)
        #expect(seen == [5, 5])
    }

    @Test("calls scheduled during an advance that are due by its end run in the same advance")
    func newlyDueCallsRunInSameAdvance() {
        let clock = Clock()
        var ran: [String] = []
        clock.callLater(1) {
            ran.append("first")
            clock.callLater(0) {
                ran.append("second")
                clock.callLater(0) { ran.append("third") }
            }
            clock.callLater(1) { ran.append("later") }
        }
        clock.advance(1)
        #expect(ran == ["first", "second", "third"])
        #expect(clock.getDelayedCalls().count == 1)
        clock.advance(1)
        #expect(ran == ["first", "second", "third", "later"])
    }

    @Test("pump advances step by step, running due calls after each step")
    func pump() {
        let clock = Clock()
        var ranAt: [Double] = []
        for delay in [0.5, 1.0, 2.5] {
            clock.callLater(delay) { ranAt.append(clock.seconds()) }
        }
        clock.pump([1, 1, 1])
        #expect(ranAt == [1, 1, 3])
        #expect(clock.seconds() == 3)
    }

    @Test("getDelayedCalls lists the pending calls only")
    func getDelayedCalls() throws {
        let clock = Clock()
        let pending = clock.callLater(5) {}
        let cancelled = clock.callLater(5) {}
        clock.callLater(1) {}
        try cancelled.cancel()
        clock.advance(1)
        let calls = clock.getDelayedCalls()
        #expect(calls.count == 1)
        #expect(calls.first === pending)
    }

    @Test("a call can cancel a later call during the same advance")
    func cancelDuringAdvance() {
        let clock = Clock()
        var ran: [String] = []
        var victim: DelayedCall?
        clock.callLater(1) {
            ran.append("canceller")
            try? victim?.cancel()
        }
        victim = clock.callLater(2) { ran.append("victim") }
        clock.advance(3)
        #expect(ran == ["canceller"])
        #expect(clock.getDelayedCalls().isEmpty)
    }
}
