import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Reactor time: callLater on the monotonic clock")
struct ReactorTimeTests {
    @Test(
        "callLater(1e12) is safe to wait on and cancellable; a wake-up from a thread ends the wait",
        arguments: Backend.available)
    func farFutureCall(backend: Backend) throws {
        try withReactor(backend) { reactor in
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
            try reactor.run()
            #expect(!farCallRan)
            #expect(far.cancelled)
        }
    }

    @Test(
        "a delay-0 call scheduled by a running call runs on the next turn, not the same one",
        arguments: Backend.available)
    func delayZeroWaitsForNextTurn(backend: Backend) throws {
        try withReactor(backend) { reactor in
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
        }
    }

    @Test("a call rescheduling itself with delay 0 does not starve I/O", arguments: Backend.available)
    func delayZeroDoesNotStarveIO(backend: Backend) throws {
        try withReactor(backend) { reactor in
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
            try reactor.run()
            // The timer ran at most once per turn, and the first wait saw the pipe.
            #expect(spinsWhenReadable.map { $0 <= 1 } == true)
        }
    }

    @Test("timers run in deadline order, FIFO among equal deadlines", arguments: Backend.available)
    func timerOrder(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var order: [Int] = []
            reactor.callLater(0.002) {
                order.append(3)
                try? reactor.stop()
            }
            reactor.callLater(0) { order.append(1) }
            reactor.callLater(0) { order.append(2) }
            let cancelled = reactor.callLater(0) { order.append(99) }
            try cancelled.cancel()
            try reactor.run()
            #expect(order == [1, 2, 3])
        }
    }

    @Test(
        "DelayedCall: reset and delay move a call; cancel, delay and reset of a spent call throw",
        arguments: Backend.available)
    func delayedCallErrors(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var order: [String] = []
            let ran = reactor.callLater(0) { order.append("ran") }
            let cancelled = reactor.callLater(0) { order.append("cancelled") }
            try cancelled.cancel()
            let moved = reactor.callLater(1000) { order.append("moved") }
            try moved.reset(0)
            let early = reactor.callLater(1000) { order.append("early") }
            try early.delay(-1000)
            let postponed = reactor.callLater(0) { order.append("postponed") }
            try postponed.delay(1000)
            #expect(postponed.time > reactor.seconds() + 900)
            var postponedWasPending = false
            reactor.callLater(0) {
                order.append("last")
                postponedWasPending = postponed.isActive
                try? postponed.cancel()
                try? reactor.stop()
            }
            try reactor.run()
            // "moved" and "early" now run at once; "postponed" not before the stop.
            #expect(order.first == "ran")
            #expect(order.last == "last")
            #expect(order.sorted() == ["early", "last", "moved", "ran"])
            #expect(ran.called && moved.called && early.called && postponedWasPending)
            #expect(cancelled.cancelled && !cancelled.called)
            for spent in [ran, moved, early] {
                #expect(throws: AlreadyCalled.self) { try spent.cancel() }
                #expect(throws: AlreadyCalled.self) { try spent.delay(1) }
                #expect(throws: AlreadyCalled.self) { try spent.reset(1) }
            }
            for spent in [cancelled, postponed] {
                #expect(throws: AlreadyCancelled.self) { try spent.cancel() }
                #expect(throws: AlreadyCancelled.self) { try spent.delay(1) }
                #expect(throws: AlreadyCancelled.self) { try spent.reset(1) }
            }
        }
    }
}
