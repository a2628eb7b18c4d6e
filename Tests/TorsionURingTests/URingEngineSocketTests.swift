import Glibc
import Testing
import TorsionCore
import TorsionEngine

@testable import TorsionURing

/// A listening TCP socket on a loopback port the system chose.
func makeLoopbackListener() throws -> (descriptor: Int32, address: SocketAddress) {
    let listener = try Socket.makeListeningSocket(on: .ipv4(IPv4Address(host: "127.0.0.1", port: 0)), backlog: 16)
    return (listener, try Socket.localAddress(listener))
}

@Suite(
    "URingEngine: watching, accepting and connecting",
    .enabled(if: URingProbe.current.isAvailable))
struct URingEngineSocketTests {
    @Test("a watched descriptor that stays readable is reported on every turn (level semantics)")
    func watchIsLevelTriggered() throws {
        try withEngineAndPipe { engine, pipe in
            pipe.fill()
            var reports: [PollerInterest] = []
            try engine.watch(pipe.readEnd, interest: .read) { reports.append($0) }
            #expect(engine.watchedCount == 1)
            try turn(engine) { reports.count == 1 }
            // Nothing was read: the next turns report it again, once each.
            try engine.wait(timeout: nil)
            #expect(reports.count == 2)
            try engine.wait(timeout: nil)
            #expect(reports == [.read, .read, .read])
            engine.unwatch(pipe.readEnd)
            #expect(engine.watchedCount == 0)
            try engine.wait(timeout: 0)
            #expect(reports.count == 3)
        }
    }

    @Test("changing a watch's interest reports the new interest only")
    func watchInterestChange() throws {
        try withEngineAndPipe { engine, pipe in
            var reports: [PollerInterest] = []
            // The write end of an empty pipe is writable, never readable.
            try engine.watch(pipe.writeEnd, interest: .read) { reports.append($0) }
            try engine.wait(timeout: 0)
            #expect(reports.isEmpty)
            try engine.watch(pipe.writeEnd, interest: .write) { reports.append($0) }
            try turn(engine) { !reports.isEmpty }
            #expect(reports == [.write])
            engine.unwatch(pipe.writeEnd)
        }
    }

    @Test("a multishot accept hands over every connection with its peer, and connect completes")
    func acceptAndConnect() throws {
        let engine = try URingEngine()
        let (listener, address) = try makeLoopbackListener()
        defer {
            engine.closeDescriptor(listener)
            engine.close()
        }
        var accepted: [AcceptResult] = []
        try engine.accept(listener) { accepted.append($0) }
        var clients: [Int32] = []
        var connected: [Result<Void, SystemError>] = []
        for _ in 0..<3 {
            let client = try Socket.makeSocket(family: AF_INET, kind: .stream)
            clients.append(client)
            try engine.connect(client, to: address) { connected.append($0) }
        }
        #expect(connected.isEmpty, "a completion ran inside connect")
        try turn(engine) { accepted.count == 3 && connected.count == 3 }
        #expect(connected.allSatisfy { (try? $0.get()) != nil })
        for result in accepted {
            guard case .accepted(let descriptor, let peer) = result else {
                Issue.record("accept failed: \(result)")
                continue
            }
            #expect(fcntl(descriptor, F_GETFL) & O_NONBLOCK != 0)
            #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)
            let local = clients.compactMap { try? Socket.localAddress($0) }
            #expect(local.contains(peer))
            close(descriptor)
        }
        engine.cancelAccept(listener)
        for client in clients { engine.closeDescriptor(client) }
        try engine.wait(timeout: 0)
    }

    @Test("a connect to a port nobody listens on completes with ECONNREFUSED; a cancelled one never completes")
    func connectRefusedAndCancelled() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        let (listener, address) = try makeLoopbackListener()
        close(listener)
        let refused = try Socket.makeSocket(family: AF_INET, kind: .stream)
        let cancelled = try Socket.makeSocket(family: AF_INET, kind: .stream)
        var outcomes: [String] = []
        try engine.connect(refused, to: address) { result in
            if case .failure(let error) = result { outcomes.append("refused \(error.errno == ECONNREFUSED)") }
        }
        try engine.connect(cancelled, to: address) { _ in outcomes.append("cancelled socket completed") }
        engine.cancelConnect(cancelled)
        engine.closeDescriptor(cancelled)
        try turn(engine) { !outcomes.isEmpty && engine.operationsInFlight(on: cancelled) == 0 }
        #expect(outcomes == ["refused true"])
        #expect(engine.operationsInFlight(on: cancelled) == 0)
        engine.closeDescriptor(refused)
    }

    @Test("an address the socket cannot take is thrown at once, with nothing pending")
    func connectBadAddress() throws {
        let engine = try URingEngine()
        defer { engine.close() }
        let socket = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { engine.closeDescriptor(socket) }
        #expect(throws: SocketOperationError.self) {
            try engine.connect(socket, to: .ipv4(IPv4Address(host: "not-a-literal", port: 1))) { _ in }
        }
        #expect(engine.operationsInFlight(on: socket) == 0)
    }
}
