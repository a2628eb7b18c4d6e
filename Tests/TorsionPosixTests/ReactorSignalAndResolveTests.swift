import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Reactor signals and name resolution")
struct ReactorSignalAndResolveTests {
    // One backend only: the handlers are process-wide, and parallel cases
    // would race for them (the second gets SignalHandlersInUse).
    @Test("SIGTERM stops a reactor that handles signals, and the previous handler is restored")
    func sigtermStops() throws {
        let reactor = try Reactor(backend: .epoll, handlesSignals: true)
        var shutdownRan = false
        reactor.addSystemEventTrigger(.during, .shutdown) {
            shutdownRan = true
            return nil
        }
        reactor.callWhenRunning { kill(getpid(), SIGTERM) }
        try runWithWatchdog(reactor)
        #expect(shutdownRan)
        var current = sigaction()
        sigaction(SIGTERM, nil, &current)
        #expect(current.__sigaction_handler.sa_handler == nil)  // SIG_DFL again
        expectNoLeaks(reactor)
    }

    @Test("resolve answers localhost and an IP literal off the reactor thread", arguments: Backend.available)
    func resolveLocalhost(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        var answers: [String] = []
        reactor.callWhenRunning {
            for name in ["localhost", "192.0.2.7"] {
                reactor.resolve(name, timeout: 10).addCallback { (address: String) -> Void in
                    answers.append(address)
                    if answers.count == 2 { try? reactor.stop() }
                }
            }
        }
        try runWithWatchdog(reactor, limit: 15)
        #expect(Set(answers).contains("192.0.2.7"))
        #expect(answers.contains { $0 == "127.0.0.1" || $0 == "::1" })
        expectNoLeaks(reactor)
    }

    @Test("resolve fails with DNSLookupError for a name getaddrinfo rejects", arguments: Backend.available)
    func resolveFailure(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        var failure: Failure?
        reactor.callWhenRunning {
            reactor.resolve("", timeout: 10).addErrback { (error: Failure) -> String in
                failure = error
                try? reactor.stop()
                return ""
            }
        }
        try runWithWatchdog(reactor, limit: 15)
        let error = try #require(failure?.error as? DNSLookupError)
        #expect(error.host == "")
        expectNoLeaks(reactor)
    }
}
