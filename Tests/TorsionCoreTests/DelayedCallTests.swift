import Testing
import TorsionCore

private final class Captured {}

@Suite("DelayedCall")
struct DelayedCallTests {
    @Test("time is the absolute deadline: now plus the delay")
    func time() {
        let clock = Clock()
        clock.advance(3)
        let call = clock.callLater(2) {}
        #expect(call.time == 5)
    }

    @Test("a call is active until it runs, then called")
    func activeUntilRun() {
        let clock = Clock()
        var ran = 0
        let call = clock.callLater(1) { ran += 1 }
        #expect(call.isActive && !call.called && !call.cancelled)
        clock.advance(1)
        #expect(ran == 1)
        #expect(!call.isActive && call.called && !call.cancelled)
    }

    @Test("cancel prevents the call and makes it inactive")
    func cancelPrevents() throws {
        let clock = Clock()
        var ran = false
        let call = clock.callLater(1) { ran = true }
        try call.cancel()
        #expect(!call.isActive && call.cancelled && !call.called)
        clock.advance(10)
        #expect(!ran)
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("cancel, delay and reset throw AlreadyCancelled after a cancel")
    func alreadyCancelled() throws {
        let clock = Clock()
        let call = clock.callLater(1) {}
        try call.cancel()
        #expect(throws: AlreadyCancelled.self) { try call.cancel() }
        #expect(throws: AlreadyCancelled.self) { try call.delay(1) }
        #expect(throws: AlreadyCancelled.self) { try call.reset(1) }
        #expect(call.time == 1)
    }

    @Test("cancel, delay and reset throw AlreadyCalled after the call ran")
    func alreadyCalled() {
        let clock = Clock()
        let call = clock.callLater(1) {}
        clock.advance(1)
        #expect(throws: AlreadyCalled.self) { try call.cancel() }
        #expect(throws: AlreadyCalled.self) { try call.delay(1) }
        #expect(throws: AlreadyCalled.self) { try call.reset(1) }
        #expect(!call.cancelled)
    }

    @Test("a running call cannot cancel or move itself: it already counts as called")
    func runningCallIsCalled() {
        let clock = Clock()
        var errors: [any Error] = []
        var call: DelayedCall?
        call = clock.callLater(1) {
            do { try call?.cancel() } catch { errors.append(error) }
            do { try call?.reset(5) } catch { errors.append(error) }
        }
        clock.advance(1)
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0 is AlreadyCalled })
        #expect(clock.getDelayedCalls().isEmpty)
    }

    @Test("delay postpones the call by the given amount, once")
    func delayPostpones() throws {
        let clock = Clock()
        var ranAt: [Double] = []
        let call = clock.callLater(2) { ranAt.append(clock.seconds()) }
        try call.delay(3)
        #expect(call.time == 5)
        clock.advance(2)
        #expect(ranAt.isEmpty)
        clock.advance(3)
        #expect(ranAt == [5])
        clock.advance(10)
        #expect(ranAt == [5])
    }

    @Test("a negative delay brings the call forward")
    func delayBringsForward() throws {
        let clock = Clock()
        var ran = false
        let call = clock.callLater(5) { ran = true }
        try call.delay(-4)
        clock.advance(1)
        #expect(ran)
    }

    @Test("reset reschedules relative to now, not to the old deadline")
    func resetFromNow() throws {
        let clock = Clock()
        var ranAt: [Double] = []
        let call = clock.callLater(5) { ranAt.append(clock.seconds()) }
        clock.advance(1)
        try call.reset(1)
        #expect(call.time == 2)
        clock.advance(1)
        #expect(ranAt == [2])
        clock.advance(10)
        #expect(ranAt == [2])
    }

    @Test("the function and what it captured are released once the call ran or was cancelled")
    func releasesFunction() throws {
        let clock = Clock()
        weak var ranCapture: Captured?
        weak var cancelledCapture: Captured?
        let ran: DelayedCall
        let cancelled: DelayedCall
        do {
            let first = Captured()
            let second = Captured()
            ranCapture = first
            cancelledCapture = second
            ran = clock.callLater(1) { _ = first }
            cancelled = clock.callLater(1) { _ = second }
        }
        #expect(ranCapture != nil && cancelledCapture != nil)
        try cancelled.cancel()
        #expect(cancelledCapture == nil)
        clock.advance(1)
        #expect(ranCapture == nil)
        #expect(ran.called)
    }

    @Test("description names the state and the time")
    func description() throws {
        let clock = Clock()
        let call = clock.callLater(1) {}
        #expect(call.description == "DelayedCall(time: 1.0, active)")
        try call.cancel()
        #expect(call.description == "DelayedCall(time: 1.0, cancelled)")
    }
}
