import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Out of descriptors, plays the kernel's accept: `accept4` fails with
/// `EMFILE` before looking at the queue while the process's table is full.
/// Lowering `RLIMIT_NOFILE` would starve every test running in parallel in
/// this process, so the engine's accept call is replaced instead: the table
/// counts as full while `exhausted` holds and, for the reserve trick, while
/// the port keeps its reserve descriptor open.
private final class DescriptorTable {
    var exhausted = true
    var calls = 0
    /// Whether the port's reserve, once closed, frees a slot.
    let reserveFreesSlot: Bool
    weak var port: StreamPort?

    init(reserveFreesSlot: Bool) { self.reserveFreesSlot = reserveFreesSlot }

    func install(on reactor: Reactor) throws {
        let engine = try #require(reactor.engine as? any AcceptCallReplaceable)
        engine.acceptCall = { [self] fd throws(SystemError) in
            calls += 1
            let full = exhausted && (!reserveFreesSlot || port?.hasReserve == true)
            if full { throw SystemError(errno: EMFILE, call: "accept4") }
            return try Socket.accept(fd)
        }
    }
}

@Suite("Accepting with no descriptor left (EMFILE) on every backend")
struct AcceptExhaustionTests {
    @Test(
        "EMFILE: the reserve descriptor sheds the queued connection, the listener keeps working, no busy loop",
        arguments: Backend.available)
    func reserveTrick(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try #require(try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1") as? StreamPort)
        #expect(port.hasReserve)
        let table = DescriptorTable(reserveFreesSlot: true)
        table.port = port
        try table.install(on: reactor)
        let address = try #require(port.host as? IPv4Address)

        let shed = try rawClient(to: .ipv4(address))
        defer { close(shed) }
        try turn(reactor) { readAvailable(shed) == [] }
        #expect(factory.built.isEmpty, "a shed connection reaches no protocol")
        reactor.iterate(delay: 0)
        #expect(port.hasReserve, "the reserve is reopened")
        // Nothing queued any more: the listener is not reported again.
        let calls = table.calls
        for _ in 0..<3 { reactor.iterate(delay: 0) }
        #expect(table.calls == calls)

        table.exhausted = false
        let served = try rawClient(to: .ipv4(address))
        defer { close(served) }
        try turn(reactor) { factory.built.count == 1 }
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "EMFILE with no reserve to give: accepting pauses instead of spinning, then resumes",
        arguments: Backend.available)
    func pauseWithoutReserve(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let factory = LifecycleFactory()
        let port = try #require(try reactor.listenTCP(0, factory: factory, interface: "127.0.0.1") as? StreamPort)
        // Long enough that no loaded machine lets it expire during the
        // checks below; the test then brings the resumption forward.
        port.acceptBackoff = 3600
        let table = DescriptorTable(reserveFreesSlot: false)
        try table.install(on: reactor)
        let client = try rawClient(to: .ipv4(try #require(port.host as? IPv4Address)))
        defer { close(client) }
        try turn(reactor) { table.calls > 0 }
        // Tried with the reserve closed, then paused: the listener, still
        // readable, is not watched.
        #expect(table.calls == 2)
        for _ in 0..<3 { reactor.iterate(delay: 0) }
        #expect(table.calls == 2)
        #expect(reactor.engine.watchedCount == 0)

        table.exhausted = false
        let resumption = try #require(reactor.getDelayedCalls().first)
        #expect(reactor.getDelayedCalls().count == 1)
        try resumption.reset(0)
        try turn(reactor) { factory.built.count == 1 }
        #expect(port.hasReserve)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("stopListening while paused for descriptors cancels the resumption", arguments: Backend.available)
    func stopWhilePaused(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let port = try #require(
            try reactor.listenTCP(0, factory: LifecycleFactory(), interface: "127.0.0.1") as? StreamPort)
        let table = DescriptorTable(reserveFreesSlot: false)
        try table.install(on: reactor)
        let client = try rawClient(to: .ipv4(try #require(port.host as? IPv4Address)))
        defer { close(client) }
        try turn(reactor) { table.calls == 2 }
        reactor.iterate(delay: 0)
        #expect(reactor.getDelayedCalls().count == 1, "the resumption is scheduled")
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }
}
