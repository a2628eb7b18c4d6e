import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Connects a plain socket to `address` and returns it once the kernel
/// has queued the connection on the listener (loopback completes the
/// handshake without the listener accepting).
private func connectedClient(to address: SocketAddress) throws -> Int32 {
    let client = try Socket.makeSocket(family: address.family, kind: .stream)
    if try Socket.connect(client, to: address) == .pending {
        var entry = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
        #expect(poll(&entry, 1, 5000) == 1)
        try Socket.finishConnect(client)
    }
    return client
}

/// A loopback listener and a fresh TCP socket to connect to it.
private func listenerAndUnconnectedClient() throws -> (listener: Int32, client: Int32) {
    let listener = try LoopbackListener().descriptor
    do {
        return (listener, try Socket.makeSocket(family: AF_INET, kind: .stream))
    } catch {
        close(listener)
        throw error
    }
}

@Suite("IOEngine accept and connect on every backend")
struct EngineSocketOperationTests {
    @Test("accept delivers every queued connection until cancelAccept", arguments: Backend.available)
    func multishotAccept(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let loopback = try LoopbackListener()
        let (listener, address) = (loopback.descriptor, loopback.address)
        defer { close(listener) }
        var accepted: [Int32] = []
        try reactor.engine.accept(listener) { result in
            guard case .accepted(let descriptor, _) = result else {
                Issue.record("unexpected \(result)")
                return
            }
            accepted.append(descriptor)
        }
        let clients = try (0..<3).map { _ in try connectedClient(to: address) }
        defer { clients.forEach { close($0) } }
        try turn(reactor) { accepted.count == 3 }
        let late = try connectedClient(to: address)
        defer { close(late) }
        try turn(reactor) { accepted.count == 4 }
        for descriptor in accepted {
            #expect(fcntl(descriptor, F_GETFL) & O_NONBLOCK != 0)
            close(descriptor)
        }
        reactor.engine.cancelAccept(listener)
        let unseen = try connectedClient(to: address)
        defer { close(unseen) }
        reactor.iterate(delay: 0)
        #expect(accepted.count == 4)
        expectNoLeaks(reactor)
    }

    @Test("a handler that cancels accepting gets nothing more, even from the same turn", arguments: Backend.available)
    func cancelFromHandler(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let loopback = try LoopbackListener()
        let (listener, address) = (loopback.descriptor, loopback.address)
        defer { close(listener) }
        let clients = try (0..<2).map { _ in try connectedClient(to: address) }
        defer { clients.forEach { close($0) } }
        var deliveries = 0
        try reactor.engine.accept(listener) { result in
            deliveries += 1
            if case .accepted(let descriptor, _) = result { close(descriptor) }
            reactor.engine.cancelAccept(listener)
        }
        try turn(reactor) { deliveries > 0 }
        reactor.iterate(delay: 0)
        #expect(deliveries == 1)
        expectNoLeaks(reactor)
    }

    @Test("an accept error is delivered and the next accept is tried in the same turn", arguments: Backend.available)
    func errorThenRetry(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let loopback = try LoopbackListener()
        let listener = loopback.descriptor
        defer { close(listener) }
        let client = try connectedClient(to: loopback.address)
        defer { close(client) }
        let engine = try #require(reactor.engine as? any AcceptCallReplaceable)
        var failNext = true
        engine.acceptCall = { fd throws(SystemError) in
            if failNext {
                failNext = false
                throw SystemError(errno: EMFILE, call: "accept4")
            }
            return try Socket.accept(fd)
        }
        var results: [String] = []
        try reactor.engine.accept(listener) { result in
            switch result {
            case .accepted(let descriptor, _):
                close(descriptor)
                results.append("accepted")
            case .failed(let error):
                results.append("errno \(error.errno)")
            }
        }
        try turn(reactor) { !results.isEmpty }
        #expect(results == ["errno \(EMFILE)", "accepted"])
        reactor.engine.cancelAccept(listener)
        expectNoLeaks(reactor)
    }

    @Test("connect completes on a later wait, never inside the call", arguments: Backend.available)
    func connectCompletes(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (listener, client) = try listenerAndUnconnectedClient()
        defer {
            close(listener)
            close(client)
        }
        var outcome: Result<Void, SystemError>?
        try reactor.engine.connect(client, to: Socket.localAddress(listener)) { outcome = $0 }
        #expect(outcome == nil)
        try turn(reactor) { outcome != nil }
        #expect(throws: Never.self) { try outcome?.get() }
        #expect(try Socket.peerAddress(client) == Socket.localAddress(listener))
        expectNoLeaks(reactor)
    }

    @Test("a UNIX connect completes on a later wait too", arguments: Backend.available)
    func unixConnectCompletes(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let address = SocketAddress.unix(UNIXAddress("\0" + uniqueSocketPath("engine")))
        let listener = try Socket.makeListeningSocket(on: address, backlog: 8)
        defer { close(listener) }
        let client = try Socket.makeSocket(family: AF_UNIX, kind: .stream)
        defer { close(client) }
        var outcome: Result<Void, SystemError>?
        try reactor.engine.connect(client, to: address) { outcome = $0 }
        #expect(outcome == nil)
        try turn(reactor) { outcome != nil }
        #expect(throws: Never.self) { try outcome?.get() }
        expectNoLeaks(reactor)
    }

    @Test("a refused TCP connect reports ECONNREFUSED", arguments: Backend.available)
    func connectRefused(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let refusing = try RefusingPort()
        defer { close(refusing.descriptor) }
        let client = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { close(client) }
        var outcome: Result<Void, SystemError>?
        do {
            try reactor.engine.connect(client, to: refusing.address) { outcome = $0 }
            try turn(reactor) { outcome != nil }
        } catch SocketOperationError.system(let error) {
            // Loopback may refuse inside connect(2) itself.
            outcome = .failure(error)
        }
        #expect(throws: SystemError(errno: ECONNREFUSED, call: "connect")) { try outcome?.get() }
        expectNoLeaks(reactor)
    }

    @Test("cancelConnect drops the completion", arguments: Backend.available)
    func cancelConnect(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (listener, client) = try listenerAndUnconnectedClient()
        defer {
            close(listener)
            close(client)
        }
        var completions = 0
        try reactor.engine.connect(client, to: Socket.localAddress(listener)) { _ in completions += 1 }
        reactor.engine.cancelConnect(client)
        // The connection completes in the kernel; the engine says nothing.
        var entry = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
        #expect(poll(&entry, 1, 5000) == 1)
        reactor.iterate(delay: 0)
        #expect(completions == 0)
        expectNoLeaks(reactor)
    }
}
