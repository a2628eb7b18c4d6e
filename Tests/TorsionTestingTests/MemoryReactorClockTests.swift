import Testing
import TorsionCore
import TorsionTesting

@Suite("MemoryReactorClock")
struct MemoryReactorClockTests {
    @Test("time starts at 0 and moves only with advance and pump, running due calls in order")
    func time() {
        let reactor = MemoryReactorClock()
        var log: [String] = []
        reactor.callLater(2) { log.append("2 s") }
        reactor.callLater(1) { log.append("1 s") }
        reactor.callLater(.milliseconds(3500)) { log.append("3.5 s") }
        #expect(reactor.seconds() == 0)
        #expect(reactor.getDelayedCalls().count == 3)

        reactor.advance(1.5)
        #expect(log == ["1 s"])
        #expect(reactor.rightNow == 1.5)
        reactor.pump([0.5, 1, 1])
        #expect(log == ["1 s", "2 s", "3.5 s"])
        #expect(reactor.seconds() == 4)
        #expect(reactor.getDelayedCalls().isEmpty)
    }

    @Test("a cancelled call does not run and leaves getDelayedCalls")
    func cancel() throws {
        let reactor = MemoryReactorClock()
        var ran = false
        let call = reactor.callLater(1) { ran = true }
        try call.cancel()
        reactor.advance(2)
        #expect(!ran)
        #expect(reactor.getDelayedCalls().isEmpty)
    }

    @Test("iterate runs the calls due now without moving time")
    func iterateRunsDueCalls() {
        let reactor = MemoryReactorClock()
        var log: [String] = []
        reactor.callLater(0) { log.append("now") }
        reactor.callLater(1) { log.append("later") }
        reactor.iterate(delay: 10)
        #expect(log == ["now"])
        #expect(reactor.seconds() == 0)
        #expect(reactor.iterationCount == 1)
    }

    @Test("the reactor's clock can be shared: advancing it moves the reactor's time")
    func sharedClock() {
        let clock = Clock()
        let reactor = MemoryReactorClock(clock: clock)
        var ran = false
        reactor.callLater(1) { ran = true }
        clock.advance(1)
        #expect(ran)
        #expect(reactor.seconds() == 1)
        #expect(reactor.clock === clock)
    }

    @Test("it is still a MemoryReactor: calls are recorded and shutdown triggers run")
    func isAMemoryReactor() throws {
        let reactor = MemoryReactorClock()
        var shutdown = false
        reactor.addSystemEventTrigger(.during, .shutdown) {
            shutdown = true
            return nil
        }
        reactor.callWhenRunning { [unowned reactor] in
            reactor.callLater(5) { try? reactor.stop() }
        }
        try reactor.run()
        _ = try reactor.listenTCP(80, factory: Factory())
        #expect(reactor.tcpServers.count == 1)
        reactor.advance(5)
        #expect(shutdown)
        #expect(!reactor.running)
    }

    @Test("a deferLater on the reactor fires when its time comes")
    func deferLaterOnReactor() {
        let reactor = MemoryReactorClock()
        var result: Int?
        deferLater(reactor, 3) { 42 }.addCallback { result = $0 }
        reactor.advance(2)
        #expect(result == nil)
        reactor.advance(1)
        #expect(result == 42)
    }
}
