import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

// Serialized: the handlers are process-wide, and tests running in
// parallel would race for them (the second gets SignalHandlersInUse).
@Suite("Reactor signals", .serialized)
struct ReactorSignalTests {
    @Test(
        "SIGINT and SIGTERM stop a reactor that handles signals, and the previous handler is restored",
        arguments: Backend.available, [SIGINT, SIGTERM])
    func signalStops(backend: Backend, signal: Int32) throws {
        try withReactor(backend, handlesSignals: true) { reactor in
            var shutdownRan = false
            reactor.addSystemEventTrigger(.during, .shutdown) {
                shutdownRan = true
                return nil
            }
            // Process-directed, as from a terminal or a supervisor: any thread
            // not blocking the signal runs the handler.
            reactor.callWhenRunning { kill(getpid(), signal) }
            try reactor.run()
            #expect(shutdownRan)
            var current = sigaction()
            sigaction(signal, nil, &current)
            #expect(current.__sigaction_handler.sa_handler == nil)  // SIG_DFL again
        }
    }

    @Test(
        "a second reactor handling signals at the same time is refused with SignalHandlersInUse",
        arguments: Backend.available)
    func signalHandlersInUse(backend: Backend) throws {
        try withReactor(backend) { first in
            let watcher = try SignalWatcher(engine: first.engine) {}
            defer { watcher.uninstall() }
            try withReactor(backend, handlesSignals: true) { second in
                #expect(throws: SignalHandlersInUse.self) { try second.run() }
                #expect(!second.running)
            }
        }
    }
}

@Suite("Reactor name resolution")
struct ReactorResolveTests {
    @Test("resolve answers localhost and an IP literal off the reactor thread", arguments: Backend.available)
    func resolveLocalhost(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var answers: [String] = []
            reactor.callWhenRunning {
                for name in ["localhost", "192.0.2.7"] {
                    reactor.resolve(name, timeout: 10).addCallback { (address: String) -> Void in
                        answers.append(address)
                        if answers.count == 2 { try? reactor.stop() }
                    }
                }
            }
            try reactor.run()
            #expect(Set(answers).contains("192.0.2.7"))
            #expect(answers.contains { $0 == "127.0.0.1" || $0 == "::1" })
        }
    }

    @Test("resolve fails with DNSLookupError when the timeout passes first", arguments: Backend.available)
    func resolveTimeout(backend: Backend) throws {
        try withReactor(backend, threadPool: 1...1) { reactor in
            let gate = ConditionLock()
            let open = ReactorOwned(false)
            var failure: Failure?
            reactor.callWhenRunning {
                // The only pool thread is busy until the timeout has fired, so
                // the lookup cannot answer first.
                reactor.callInThread {
                    gate.lock()
                    while !open.value { gate.wait() }
                    gate.unlock()
                }
                reactor.resolve("localhost", timeout: 0.01).addErrback { (error: Failure) -> String in
                    failure = error
                    gate.withLock { open.value = true }
                    gate.broadcast()
                    try? reactor.stop()
                    return ""
                }
            }
            try reactor.run()
            let error = try #require(failure?.error as? DNSLookupError)
            #expect(error.host == "localhost")
        }
    }

    @Test("resolve fails with DNSLookupError for a name getaddrinfo rejects", arguments: Backend.available)
    func resolveFailure(backend: Backend) throws {
        try withReactor(backend) { reactor in
            var failure: Failure?
            reactor.callWhenRunning {
                reactor.resolve("", timeout: 10).addErrback { (error: Failure) -> String in
                    failure = error
                    try? reactor.stop()
                    return ""
                }
            }
            try reactor.run()
            let error = try #require(failure?.error as? DNSLookupError)
            #expect(error.host == "")
        }
    }
}
