import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Reactor time: callLater on the monotonic clock")
struct ReactorTimeTests {
    @Test(
        "callLater(1e12) is safe to wait on and cancellable; a wake-up from a thread ends the wait",
        arguments: Backend.available)
    func farFutureCall(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        var farCallRan = false
        let far = reactor.callLater(1e12) { farCallRan = true }
        let farHandle = ReactorOwned(far)
        #expect(far.time > reactor.seconds() + 1e11)
        reactor.callWhenRunning {
            // The loop now waits with the far deadline as its timeout,
            // clamped by the poller; a call from a pool thread wakes it.
            reactor.callInThread {
                reactor.callFromThread {
                    try? farHandle.value.cancel()
                    try? reactor.stop()
                }
            }
        }
        try runWithWatchdog(reactor)
        #expect(!farCallRan)
        #expect(far.cancelled)
        expectNoLeaks(reactor)
    }

    @Test(
        "a delay-0 call scheduled by a running call runs on the next turn, not the same one",
        arguments: Backend.available)
    func delayZeroWaitsForNextTurn(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let watchdog = armWatchdog(reactor)
        var runs = 0
        func reschedule() {
            runs += 1
            if runs < 3 { reactor.callLater(0, reschedule) }
        }
        reactor.callLater(0, reschedule)
        reactor.iterate(delay: 0)
        #expect(runs == 1)
        reactor.iterate(delay: 0)
        #expect(runs == 2)
        reactor.iterate(delay: 0)
        #expect(runs == 3)
        try cancelWatchdog(watchdog)
        expectNoLeaks(reactor)
    }

    @Test("a call rescheduling itself with delay 0 does not starve I/O", arguments: Backend.available)
    func delayZeroDoesNotStarveIO(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let pipe = try TestPipe()
        defer { pipe.close() }
        pipe.fill()
        let reader = RecordingDescriptor(pipe.readEnd)
        var spins = 0
        var spinsWhenReadable: Int?
        var pendingSpin: DelayedCall?
        func spin() {
            spins += 1
            pendingSpin = reactor.callLater(0, spin)
        }
        reader.onRead = {
            spinsWhenReadable = spins
            try? pendingSpin?.cancel()
            reactor.removeReader(reader)
            try? reactor.stop()
            return nil
        }
        reactor.callWhenRunning {
            reactor.addReader(reader)
            pendingSpin = reactor.callLater(0, spin)
        }
        try runWithWatchdog(reactor)
        // The timer ran at most once per turn, and the first wait saw the pipe.
        #expect(spinsWhenReadable.map { $0 <= 1 } == true)
        expectNoLeaks(reactor)
    }

    @Test("timers run in deadline order, FIFO among equal deadlines", arguments: Backend.available)
    func timerOrder(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        var order: [Int] = []
        reactor.callLater(0.002) {
            order.append(3)
            try? reactor.stop()
        }
        reactor.callLater(0) { order.append(1) }
        reactor.callLater(0) { order.append(2) }
        let cancelled = reactor.callLater(0) { order.append(99) }
        try cancelled.cancel()
        try runWithWatchdog(reactor)
        #expect(order == [1, 2, 3])
        expectNoLeaks(reactor)
    }
}
