import Testing
import TorsionCore

/// A timer queue with a hand-moved time and a log of which calls ran.
private final class QueueFixture {
    var now: Double = 0
    var ran: [String] = []
    private(set) lazy var queue = TimerQueue { [unowned self] in self.now }

    @discardableResult
    func schedule(_ name: String, at time: Double) -> DelayedCall {
        queue.schedule(at: time) { [unowned self] in ran.append(name) }
    }

    /// The queue never holds more than max(63, 2 × live) entries: below 64
    /// entries it does not compact, above it at most half is dead.
    var isCompact: Bool {
        queue.storedEntryCount <= max(63, 2 * queue.activeCount)
    }
}

@Suite("TimerQueue")
struct TimerQueueTests {
    @Test("calls run earliest first")
    func earliestFirst() {
        let fixture = QueueFixture()
        fixture.schedule("c", at: 3)
        fixture.schedule("a", at: 1)
        fixture.schedule("b", at: 2)
        #expect(fixture.queue.runDueCalls(now: 10) == 3)
        #expect(fixture.ran == ["a", "b", "c"])
    }

    @Test("calls with equal deadlines run in the order they were scheduled (Twisted #6718)")
    func fifoAmongEqualDeadlines() {
        let fixture = QueueFixture()
        let names = (0..<200).map { "call\($0)" }
        for name in names { fixture.schedule(name, at: 1) }
        fixture.queue.runDueCalls(now: 1)
        #expect(fixture.ran == names)
    }

    @Test("a call moved to an occupied deadline runs after the calls already there")
    func fifoAfterReset() throws {
        let fixture = QueueFixture()
        let a = fixture.schedule("a", at: 1)
        fixture.schedule("b", at: 1)
        let c = fixture.schedule("c", at: 2)
        fixture.schedule("d", at: 2)
        try a.reset(1)  // same deadline, moved behind b
        try c.delay(-1)  // moved to 1, behind a
        fixture.queue.runDueCalls(now: 2)
        #expect(fixture.ran == ["b", "a", "c", "d"])
    }

    @Test("a moved call runs once, at its new time")
    func movedCallRunsOnce() throws {
        let fixture = QueueFixture()
        let a = fixture.schedule("a", at: 1)
        try a.delay(4)
        try a.delay(-2)
        #expect(fixture.queue.runDueCalls(now: 2) == 0)
        #expect(fixture.queue.runDueCalls(now: 3) == 1)
        #expect(fixture.queue.runDueCalls(now: 100) == 0)
        #expect(fixture.ran == ["a"])
    }

    @Test("nextDeadline skips cancelled and moved calls")
    func nextDeadlineSkipsDead() throws {
        let fixture = QueueFixture()
        let first = fixture.schedule("first", at: 1)
        let second = fixture.schedule("second", at: 2)
        #expect(fixture.queue.nextDeadline == 1)
        try first.cancel()
        #expect(fixture.queue.nextDeadline == 2)
        try second.reset(7)
        #expect(fixture.queue.nextDeadline == 7)
        try second.cancel()
        #expect(fixture.queue.nextDeadline == nil)
    }

    @Test("popDueCall returns only calls that are due")
    func popDueCallOnlyDue() {
        let fixture = QueueFixture()
        let call = fixture.schedule("a", at: 5)
        #expect(fixture.queue.popDueCall(now: 4.999) == nil)
        #expect(fixture.queue.popDueCall(now: 5) === call)
        #expect(fixture.queue.activeCount == 0)
    }

    @Test("with a sequence mark, calls scheduled during the run wait for the next run")
    func markExcludesNewCalls() {
        let fixture = QueueFixture()
        _ = fixture.queue.schedule(at: 0) { [unowned fixture] in
            fixture.ran.append("old")
            fixture.schedule("new", at: 0)
        }
        let mark = fixture.queue.sequenceMark
        #expect(fixture.queue.runDueCalls(now: 0, scheduledBefore: mark) == 1)
        #expect(fixture.ran == ["old"])
        #expect(fixture.queue.nextDeadline == 0)
        fixture.queue.runDueCalls(now: 0, scheduledBefore: fixture.queue.sequenceMark)
        #expect(fixture.ran == ["old", "new"])
    }

    @Test("with a sequence mark, a call moved during the run waits for the next run")
    func markExcludesMovedCalls() {
        let fixture = QueueFixture()
        var moved: DelayedCall?
        _ = fixture.queue.schedule(at: 0) { [unowned fixture] in
            fixture.ran.append("mover")
            try? moved?.reset(0)
        }
        moved = fixture.schedule("moved", at: 0)
        fixture.queue.runDueCalls(now: 0, scheduledBefore: fixture.queue.sequenceMark)
        #expect(fixture.ran == ["mover"])
        fixture.queue.runDueCalls(now: 0, scheduledBefore: fixture.queue.sequenceMark)
        #expect(fixture.ran == ["mover", "moved"])
    }

    @Test("a call moved ahead during a marked run does not hold back older due calls")
    func markStepsOverNewerCalls() {
        let fixture = QueueFixture()
        var late: DelayedCall?
        _ = fixture.queue.schedule(at: 1) { [unowned fixture] in
            fixture.ran.append("first")
            try? late?.delay(-10)  // now ahead of "second", but newer than the mark
        }
        fixture.schedule("second", at: 2)
        late = fixture.schedule("late", at: 5)
        fixture.queue.runDueCalls(now: 3, scheduledBefore: fixture.queue.sequenceMark)
        #expect(fixture.ran == ["first", "second"])
        #expect(fixture.queue.activeCount == 1)
        fixture.queue.runDueCalls(now: 3, scheduledBefore: fixture.queue.sequenceMark)
        #expect(fixture.ran == ["first", "second", "late"])
    }

    @Test("activeCalls lists exactly the live calls")
    func activeCallsAreLive() throws {
        let fixture = QueueFixture()
        let kept = fixture.schedule("kept", at: 5)
        let moved = fixture.schedule("moved", at: 1)
        try fixture.schedule("cancelled", at: 1).cancel()
        fixture.schedule("ran", at: 0)
        try moved.reset(6)
        fixture.queue.runDueCalls(now: 0)
        let active = fixture.queue.activeCalls
        #expect(active.count == 2)
        #expect(active.contains { $0 === kept } && active.contains { $0 === moved })
        #expect(fixture.queue.activeCount == 2)
    }

    @Test("cancelling most calls compacts the heap at every step")
    func compactionOnCancel() throws {
        let fixture = QueueFixture()
        let calls = (0..<5_000).map { fixture.schedule("c\($0)", at: Double($0 % 97)) }
        for call in calls.dropLast(10) {
            try call.cancel()
            #expect(fixture.isCompact)
        }
        #expect(fixture.queue.activeCount == 10)
        #expect(fixture.queue.storedEntryCount <= 63)
        fixture.queue.runDueCalls(now: 1_000)
        #expect(fixture.ran.count == 10)
    }

    @Test("resetting one call many times keeps the heap bounded")
    func compactionOnReset() throws {
        let fixture = QueueFixture()
        let others = (0..<100).map { fixture.schedule("o\($0)", at: 1_000 + Double($0)) }
        let call = fixture.schedule("moving", at: 1)
        for step in 0..<10_000 {
            try call.reset(Double(step % 50))
            #expect(fixture.isCompact)
        }
        #expect(fixture.queue.storedEntryCount <= 2 * 101)
        fixture.queue.runDueCalls(now: 10_000)
        #expect(fixture.ran.filter { $0 == "moving" }.count == 1)
        #expect(fixture.ran.count == others.count + 1)
    }

    @Test("100,000 scheduled timers, all cancelled, leave the heap compacted and empty")
    func hundredThousandCancelled() throws {
        let fixture = QueueFixture()
        let calls = (0..<100_000).map { fixture.schedule("t", at: Double($0)) }
        #expect(fixture.queue.storedEntryCount == 100_000)
        for call in calls { try call.cancel() }
        #expect(fixture.queue.activeCount == 0)
        #expect(fixture.queue.storedEntryCount < 64)
        #expect(fixture.queue.nextDeadline == nil)
        #expect(fixture.queue.storedEntryCount == 0)
    }

    @Test("a call at a NaN time never comes due and does not disturb the order of others")
    func nanTimeNeverDue() throws {
        let fixture = QueueFixture()
        let times: [Double] = [5, 3, 9, 1, 7, 2, 8, 4, 6]
        let nan = fixture.schedule("nan", at: .nan)
        for time in times { fixture.schedule("\(Int(time))", at: time) }
        #expect(fixture.queue.nextDeadline == 1)
        fixture.queue.runDueCalls(now: 100)
        #expect(fixture.ran == (1...9).map { "\($0)" })
        #expect(nan.isActive)
        #expect(fixture.queue.nextDeadline == .infinity)
        try nan.cancel()
        #expect(fixture.queue.nextDeadline == nil)
    }
}
