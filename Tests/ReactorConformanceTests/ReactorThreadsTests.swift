import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Reactor threads: callFromThread, the thread pool, deferToThread, blockingCallFromThread")
struct ReactorThreadsTests {
    @Test(
        "callFromThread from 8 threads × 1000 calls wakes the loop and keeps each thread's order",
        arguments: Backend.available)
    func callFromThreadFIFO(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let threadCount = 8
            let callsPerThread = 1000
            let received = ReactorOwned([[Int]](repeating: [], count: threadCount))
            let total = ReactorOwned(0)
            var threads: [PosixThread] = []
            reactor.callWhenRunning {
                // Started once running: the loop is blocked in its wait (only
                // the watchdog timer is pending) when the calls arrive.
                for thread in 0..<threadCount {
                    threads.append(
                        try! PosixThread {
                            for index in 0..<callsPerThread {
                                reactor.callFromThread {
                                    received.value[thread].append(index)
                                    total.value += 1
                                    if total.value == threadCount * callsPerThread { try? reactor.stop() }
                                }
                            }
                        })
                }
            }
            try reactor.run()
            for thread in threads { thread.join() }
            for calls in received.value {
                #expect(calls == Array(0..<callsPerThread))
            }
            #expect(total.value == threadCount * callsPerThread)
            #expect(reactor.isInIOThread)
        }
    }

    @Test(
        "functions queued with callFromThread before run run once the reactor runs",
        arguments: Backend.available)
    func callFromThreadBeforeRun(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let order = ReactorOwned<[String]>([])
            reactor.callFromThread { order.value.append("queued before run") }
            reactor.callWhenRunning { order.value.append("running") }
            reactor.callFromThread { try? reactor.stop() }
            try reactor.run()
            #expect(order.value == ["running", "queued before run"])
        }
    }

    @Test("callFromThread writes the eventfd once while a wake-up is pending", arguments: Backend.available)
    func wakeSkippedWhilePending(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let ran = ReactorOwned(0)
            for _ in 0..<100 { reactor.callFromThread { ran.value += 1 } }
            #expect(reactor.threadCalls.withLock { $0.wakesSent } == 1)
            reactor.iterate(delay: 0)
            #expect(ran.value == 100)
            reactor.callFromThread { ran.value += 1 }
            #expect(reactor.threadCalls.withLock { $0.wakesSent } == 2)
            reactor.iterate(delay: 0)
            #expect(ran.value == 101)
        }
    }

    @Test("isInIOThread is true on the reactor thread only", arguments: Backend.available)
    func isInIOThread(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let inPool = ReactorOwned<Bool?>(nil)
            reactor.callWhenRunning {
                reactor.callInThread {
                    let answer = reactor.isInIOThread
                    reactor.callFromThread {
                        inPool.value = answer
                        try? reactor.stop()
                    }
                }
            }
            try reactor.run()
            #expect(reactor.isInIOThread)
            #expect(inPool.value == false)
        }
    }

    struct Boom: Error, Equatable {}

    @Test("deferToThread fires on the reactor thread with the value or the error", arguments: Backend.available)
    func deferToThread(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var value: Int?
            var error: (any Error)?
            var firedOnReactorThread = true
            reactor.callWhenRunning {
                let good = reactor.deferToThread { 6 * 7 }
                let bad = reactor.deferToThread { () throws -> Int in throw Boom() }
                var done = 0
                good.addCallback { (result: Int) -> Void in
                    value = result
                    firedOnReactorThread = firedOnReactorThread && reactor.isInIOThread
                    done += 1
                    if done == 2 { try? reactor.stop() }
                }
                bad.addErrback { (failure: Failure) -> Int in
                    error = failure.error
                    firedOnReactorThread = firedOnReactorThread && reactor.isInIOThread
                    done += 1
                    if done == 2 { try? reactor.stop() }
                    return 0
                }
            }
            try reactor.run()
            #expect(value == 42)
            #expect(error as? Boom == Boom())
            #expect(firedOnReactorThread)
        }
    }

    @Test(
        "blockingCallFromThread returns the Deferred's value or throws its error to the calling thread",
        arguments: Backend.available)
    func blockingCallFromThread(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let outcome = ReactorOwned<(Int?, Bool)?>(nil)
            reactor.callWhenRunning {
                reactor.callInThread {
                    let value = try? reactor.blockingCallFromThread { () -> Deferred<Int> in
                        let deferred = Deferred<Int>()
                        // Fires on a later turn, so the pool thread really waits.
                        reactor.callLater(0) { try? deferred.callback(7) }
                        return deferred
                    }
                    let threw: Bool
                    do {
                        _ = try reactor.blockingCallFromThread { () -> Deferred<Int> in fail(Boom()) }
                        threw = false
                    } catch {
                        threw = error is Boom
                    }
                    reactor.callFromThread {
                        outcome.value = (value, threw)
                        try? reactor.stop()
                    }
                }
            }
            try reactor.run()
            #expect(outcome.value?.0 == 7)
            #expect(outcome.value?.1 == true)
        }
    }

    @Test(
        "work queued with callInThread before run runs once the reactor starts; the pool stops at shutdown",
        arguments: Backend.available)
    func poolStartsWithReactor(backend: Backend) throws {
        try withReactor(backend, threadPool: 1...2) { reactor in
            let ran = ReactorOwned(0)
            for _ in 0..<5 {
                reactor.callInThread {
                    reactor.callFromThread {
                        ran.value += 1
                        if ran.value == 5 { try? reactor.stop() }
                    }
                }
            }
            #expect(reactor.threadPool.threadCount == 0)
            try reactor.run()
            #expect(ran.value == 5)
            #expect(reactor.threadPool.threadCount == 0)
        }
    }
}

#if DEBUG
@Suite("Reactor thread assertions")
struct ReactorThreadAssertionTests {
    @Test("debug builds trap when a reactor-thread-only method is called from another thread")
    func offThreadCallTraps() async {
        await #expect(processExitsWith: .failure) {
            let reactor = try Reactor(backend: .poll)
            let thread = try PosixThread { reactor.callLater(0) {} }
            thread.join()
        }
    }
}
#endif
