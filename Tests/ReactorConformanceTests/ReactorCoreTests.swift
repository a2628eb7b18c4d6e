import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Reactor core: run, stop, crash, iterate and system events")
struct ReactorCoreTests {
    @Test("stop before run throws ReactorNotRunning", arguments: Backend.available)
    func stopBeforeRun(backend: Backend) throws {
        try withReactor(backend) { reactor in
            #expect(throws: ReactorNotRunning.self) { try reactor.stop() }
            #expect(!reactor.running)
        }
    }

    @Test(
        "run while running throws AlreadyRunning; run after stop throws NotRestartable",
        arguments: Backend.available)
    func runTwice(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var nestedError: (any Error)?
            reactor.callWhenRunning {
                do { try reactor.run() } catch { nestedError = error }
                try? reactor.stop()
            }
            try reactor.run()
            #expect(nestedError is ReactorAlreadyRunning)
            #expect(throws: ReactorNotRestartable.self) { try reactor.run() }
            #expect(throws: ReactorNotRunning.self) { try reactor.stop() }
        }
    }

    @Test(
        "callWhenRunning functions run in order once running; later ones run at once",
        arguments: Backend.available)
    func callWhenRunningOrder(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var order: [String] = []
            reactor.callWhenRunning { order.append("first:\(reactor.running)") }
            reactor.callWhenRunning { order.append("second") }
            reactor.callWhenRunning {
                reactor.callWhenRunning { order.append("immediate") }
                order.append("third")
                try? reactor.stop()
            }
            #expect(order.isEmpty)
            try reactor.run()
            #expect(order == ["first:true", "second", "immediate", "third"])
        }
    }

    @Test(
        "shutdown runs before, then (after its Deferred fired) during, then after",
        arguments: Backend.available)
    func shutdownPhases(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var order: [String] = []
            reactor.addSystemEventTrigger(.after, .shutdown) {
                order.append("after:running=\(reactor.running)")
                return nil
            }
            reactor.addSystemEventTrigger(.during, .shutdown) {
                order.append("during")
                return nil
            }
            reactor.addSystemEventTrigger(.before, .shutdown) {
                order.append("before:running=\(reactor.running)")
                let delayed = Deferred<Void>()
                // Two turns later: "during" must wait for it.
                reactor.callLater(0) {
                    order.append("tick")
                    reactor.callLater(0) {
                        order.append("fired")
                        try? delayed.callback(())
                    }
                }
                return delayed
            }
            let removed = reactor.addSystemEventTrigger(.during, .shutdown) {
                order.append("removed trigger ran")
                return nil
            }
            reactor.removeSystemEventTrigger(removed)
            reactor.callWhenRunning { try? reactor.stop() }
            try reactor.run()
            #expect(order == ["before:running=true", "tick", "fired", "during", "after:running=false"])
            #expect(!reactor.running)
        }
    }

    @Test(
        "crash leaves the loop without shutdown triggers, and the reactor can run again",
        arguments: Backend.available)
    func crashSkipsShutdown(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var shutdownRan = false
            reactor.addSystemEventTrigger(.before, .shutdown) {
                shutdownRan = true
                return nil
            }
            reactor.callWhenRunning { reactor.crash() }
            try reactor.run()
            #expect(!shutdownRan)
            #expect(!reactor.running)
            var runningAgain = false
            reactor.callWhenRunning {
                runningAgain = reactor.running
                try? reactor.stop()
            }
            try reactor.run()
            #expect(runningAgain)
            #expect(shutdownRan)
        }
    }

    @Test("repeated crashes do not pile up the reactor's own startup trigger", arguments: Backend.available)
    func repeatedCrash(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let registered = reactor.triggers.registered.count
            reactor.crash()
            reactor.crash()
            #expect(reactor.triggers.registered.count == registered)
            reactor.callWhenRunning { reactor.crash() }
            try reactor.run()
            #expect(reactor.triggers.registered.count == registered)
        }
    }

    @Test("iterate(delay: 0) returns without waiting for a pending timer", arguments: Backend.available)
    func iterateDoesNotBlock(backend: Backend) throws {
        try withReactor(backend) { reactor in
            // The watchdog is also the pending timer: a blocking iterate would
            // wait for it, and it records a failure when it runs.
            reactor.iterate(delay: 0)
            reactor.iterate()
        }
    }

    @Test("fireSystemEvent runs a custom event's triggers phase by phase", arguments: Backend.available)
    func customEvent(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var order: [SystemEventPhase] = []
            for phase in [SystemEventPhase.after, .during, .before] {
                reactor.addSystemEventTrigger(phase, "custom") {
                    order.append(phase)
                    return nil
                }
            }
            reactor.fireSystemEvent("custom")
            #expect(order == [.before, .during, .after])
        }
    }
}
