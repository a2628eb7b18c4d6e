import Testing
import TorsionCore
import TorsionTesting

@Suite("MemoryReactor core: run, stop and system event triggers")
struct MemoryReactorCoreTests {
    @Test("run fires startup, runs callWhenRunning functions in order and leaves the reactor running")
    func runFiresStartup() throws {
        let reactor = MemoryReactor()
        var log: [String] = []
        reactor.callWhenRunning { log.append("when running 1") }
        reactor.addSystemEventTrigger(.before, .startup) {
            log.append("before startup")
            return nil
        }
        reactor.callWhenRunning { log.append("when running 2") }
        #expect(!reactor.running && !reactor.hasRun)
        #expect(log.isEmpty)

        try reactor.run()

        #expect(reactor.running && reactor.hasRun)
        #expect(log == ["before startup", "when running 1", "when running 2"])
        #expect(reactor.registeredTriggers.isEmpty)
    }

    @Test("callWhenRunning on a running reactor calls at once")
    func callWhenRunningWhileRunning() throws {
        let reactor = MemoryReactor()
        try reactor.run()
        var called = false
        reactor.callWhenRunning { called = true }
        #expect(called)
    }

    @Test("run twice throws ReactorAlreadyRunning; after stopping, ReactorNotRestartable")
    func runErrors() throws {
        let reactor = MemoryReactor()
        try reactor.run()
        #expect(throws: ReactorAlreadyRunning.self) { try reactor.run() }
        try reactor.stop()
        #expect(throws: ReactorNotRestartable.self) { try reactor.run() }
    }

    @Test("stop when not running, or a second stop, throws ReactorNotRunning")
    func stopErrors() throws {
        let reactor = MemoryReactor()
        #expect(throws: ReactorNotRunning.self) { try reactor.stop() }
        try reactor.run()
        try reactor.stop()
        #expect(throws: ReactorNotRunning.self) { try reactor.stop() }
    }

    @Test("stop runs shutdown triggers before, during, after, then clears running")
    func stopRunsShutdownPhases() throws {
        let reactor = MemoryReactor()
        var log: [String] = []
        for phase in [SystemEventPhase.after, .during, .before] {
            reactor.addSystemEventTrigger(phase, .shutdown) { [unowned reactor] in
                log.append("\(phase.rawValue) running=\(reactor.running)")
                return nil
            }
        }
        try reactor.run()
        try reactor.stop()
        #expect(log == ["before running=true", "during running=true", "after running=true"])
        #expect(!reactor.running)
        #expect(reactor.hasStopped)
    }

    @Test("a before trigger's Deferred delays the during phase until it fires")
    func beforeDeferredDelaysDuring() throws {
        let reactor = MemoryReactor()
        let gate = Deferred<Void>()
        var log: [String] = []
        reactor.addSystemEventTrigger(.before, .shutdown) {
            log.append("before")
            return gate
        }
        reactor.addSystemEventTrigger(.during, .shutdown) {
            log.append("during")
            return nil
        }
        reactor.addSystemEventTrigger(.after, .shutdown) {
            log.append("after")
            return nil
        }
        try reactor.run()
        try reactor.stop()

        #expect(log == ["before"])
        #expect(reactor.running)
        #expect(reactor.hasStopped)
        #expect(throws: ReactorNotRunning.self) { try reactor.stop() }

        try gate.callback(())

        #expect(log == ["before", "during", "after"])
        #expect(!reactor.running)
    }

    @Test("during waits for every before Deferred, and a failed one is kept, not fatal")
    func severalBeforeDeferreds() throws {
        let reactor = MemoryReactor()
        let first = Deferred<Void>()
        let second = Deferred<Void>()
        var duringRan = false
        reactor.addSystemEventTrigger(.before, .shutdown) { first }
        reactor.addSystemEventTrigger(.before, .shutdown) { second }
        reactor.addSystemEventTrigger(.before, .shutdown) { succeed() }
        reactor.addSystemEventTrigger(.during, .shutdown) {
            duringRan = true
            return nil
        }
        try reactor.run()
        try reactor.stop()
        try second.errback(message: "flush failed")
        #expect(!duringRan)
        try first.callback(())
        #expect(duringRan)
        #expect(reactor.triggerFailures.map(\.errorMessage) == ["flush failed"])
    }

    @Test("a removed trigger does not run; removing an unknown one is ignored")
    func removeTrigger() throws {
        let reactor = MemoryReactor()
        var ran: [String] = []
        let removed = reactor.addSystemEventTrigger(.during, .shutdown) {
            ran.append("removed")
            return nil
        }
        reactor.addSystemEventTrigger(.during, .shutdown) {
            ran.append("kept")
            return nil
        }
        #expect(reactor.registeredTriggers.count == 2)
        reactor.removeSystemEventTrigger(removed)
        reactor.removeSystemEventTrigger(removed)
        #expect(reactor.registeredTriggers.map(\.phase) == [.during])
        try reactor.run()
        try reactor.stop()
        #expect(ran == ["kept"])
    }

    @Test("a before trigger added while before triggers run still runs in that phase")
    func triggerAddedDuringBeforePhase() {
        let reactor = MemoryReactor()
        var log: [String] = []
        reactor.addSystemEventTrigger(.before, "custom") { [unowned reactor] in
            log.append("first")
            reactor.addSystemEventTrigger(.before, "custom") {
                log.append("added")
                return nil
            }
            return nil
        }
        reactor.addSystemEventTrigger(.during, "custom") {
            log.append("during")
            return nil
        }
        reactor.fireSystemEvent("custom")
        #expect(log == ["first", "added", "during"])
    }

    @Test("fireSystemEvent runs triggers once: they are consumed")
    func triggersAreConsumed() {
        let reactor = MemoryReactor()
        var count = 0
        reactor.addSystemEventTrigger(.after, "custom") {
            count += 1
            return nil
        }
        reactor.fireSystemEvent("custom")
        reactor.fireSystemEvent("custom")
        #expect(count == 1)
    }

    @Test("firing an event that waits for its before Deferreds again is ignored")
    func refiringWhileWaitingIsIgnored() throws {
        let reactor = MemoryReactor()
        let gate = Deferred<Void>()
        var during = 0
        reactor.addSystemEventTrigger(.before, "custom") { gate }
        reactor.addSystemEventTrigger(.during, "custom") {
            during += 1
            return nil
        }
        reactor.fireSystemEvent("custom")
        reactor.fireSystemEvent("custom")
        try gate.callback(())
        #expect(during == 1)
    }

    @Test("crash clears running without running shutdown triggers")
    func crash() throws {
        let reactor = MemoryReactor()
        var shutdownRan = false
        reactor.addSystemEventTrigger(.before, .shutdown) {
            shutdownRan = true
            return nil
        }
        try reactor.run()
        reactor.crash()
        #expect(!reactor.running && reactor.hasCrashed)
        #expect(!shutdownRan)
    }

    @Test("iterate only counts: there is no I/O")
    func iterateCounts() {
        let reactor = MemoryReactor()
        reactor.iterate()
        reactor.iterate(delay: 5)
        #expect(reactor.iterationCount == 2)
    }

    @Test("resolve answers from hostAddresses, passes IP literals through and fails others with DNSLookupError")
    func resolve() {
        let reactor = MemoryReactor()
        reactor.hostAddresses["example.com"] = "192.0.2.10"
        var answers: [String] = []
        var failures: [Failure] = []
        for name in ["example.com", "127.0.0.1", "::1", "unknown.invalid", "256.1.1.1", "1.2.3"] {
            reactor.resolve(name).addCallbacks({ answers.append($0) }, { failures.append($0) })
        }
        #expect(answers == ["192.0.2.10", "127.0.0.1", "::1"])
        #expect(
            failures.compactMap { $0.error(as: DNSLookupError.self)?.host } == [
                "unknown.invalid", "256.1.1.1", "1.2.3",
            ])
        #expect(
            reactor.resolveCalls.map(\.name) == [
                "example.com", "127.0.0.1", "::1", "unknown.invalid", "256.1.1.1", "1.2.3",
            ])
        #expect(reactor.resolveCalls.first?.timeout == 60)
    }
}

/// A descriptor handler for the FDSet tests.
final class FakeDescriptor: ReadDescriptor, WriteDescriptor {
    let fileDescriptor: Int32
    init(_ fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }
    func doRead() -> Failure? { nil }
    func doWrite() -> Failure? { nil }
    func connectionLost(reason: Failure) {}
}

@Suite("MemoryReactor FDSet")
struct MemoryReactorFDSetTests {
    @Test("readers and writers are kept once each and removed individually")
    func addAndRemove() {
        let reactor = MemoryReactor()
        let a = FakeDescriptor(3)
        let b = FakeDescriptor(4)
        reactor.addReader(a)
        reactor.addReader(a)
        reactor.addReader(b)
        reactor.addWriter(b)
        #expect(reactor.getReaders().map(\.fileDescriptor) == [3, 4])
        #expect(reactor.getWriters().map(\.fileDescriptor) == [4])
        reactor.removeReader(a)
        reactor.removeWriter(a)
        #expect(reactor.readers.map(\.fileDescriptor) == [4])
        #expect(reactor.writers.map(\.fileDescriptor) == [4])
    }

    @Test("removeAll empties both sets and returns each descriptor once")
    func removeAll() {
        let reactor = MemoryReactor()
        let a = FakeDescriptor(3)
        let b = FakeDescriptor(4)
        reactor.addReader(a)
        reactor.addWriter(a)
        reactor.addWriter(b)
        let removed = reactor.removeAll()
        #expect(removed.map(\.fileDescriptor) == [3, 4])
        #expect(reactor.readers.isEmpty && reactor.writers.isEmpty)
    }
}
