import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// The type and permission bits of `path`, or `nil` when nothing is there.
private func fileMode(_ path: String) -> mode_t? {
    var status = stat()
    return lstat(path, &status) == 0 ? status.st_mode : nil
}

/// Leaves a socket file at `path` that nobody listens on: bound and
/// closed without removing it, as a server that died would.
private func leaveStaleSocketFile(at path: String) throws {
    let descriptor = try Socket.makeSocket(family: AF_UNIX, kind: .stream)
    defer { close(descriptor) }
    try Socket.bind(descriptor, to: .unix(UNIXAddress(path)))
}

@Suite("listenUNIX: UNIX listening ports on every backend")
struct UNIXPortTests {
    @Test(
        "a UNIX port creates its socket file with the mode asked for and removes it on stopListening",
        arguments: Backend.available)
    func socketFileLifecycle(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let path = uniqueSocketPath("mode")
        defer { unlink(path) }
        let factory = LifecycleFactory()
        let port = try reactor.listenUNIX(path, factory: factory, mode: 0o600)
        #expect((port.host as? UNIXAddress) == UNIXAddress(path))
        let mode = try #require(fileMode(path))
        #expect(mode & S_IFMT == S_IFSOCK)
        #expect(mode & 0o777 == 0o600)
        let client = try rawClient(to: .unix(UNIXAddress(path)))
        defer { close(client) }
        try turn(reactor) { readAvailable(client) == [] }
        #expect(factory.built.first as? UNIXAddress == UNIXAddress(nil))
        port.stopListening()
        #expect(fileMode(path) == nil)
        expectNoLeaksAfterTurn(reactor)
        #expect(factory.events == ["start", "stop"])
    }

    @Test("a stale socket file is replaced", arguments: Backend.available)
    func staleFileReplaced(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let path = uniqueSocketPath("stale")
        defer { unlink(path) }
        try leaveStaleSocketFile(at: path)
        #expect(fileMode(path).map { $0 & S_IFMT } == S_IFSOCK)
        let factory = LifecycleFactory()
        let port = try reactor.listenUNIX(path, factory: factory)
        let client = try rawClient(to: .unix(UNIXAddress(path)))
        defer { close(client) }
        try turn(reactor) { readAvailable(client) == [] }
        #expect(factory.built.count == 1)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test(
        "a live socket and a file that is not a socket are left alone: CannotListenError", arguments: Backend.available)
    func liveOrForeignRefused(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let livePath = uniqueSocketPath("live")
        defer { unlink(livePath) }
        let live = try Socket.makeListeningSocket(on: .unix(UNIXAddress(livePath)), backlog: 4)
        defer { close(live) }
        let factory = LifecycleFactory()
        let error = #expect(throws: CannotListenError.self) {
            try reactor.listenUNIX(livePath, factory: factory)
        }
        #expect(error?.port == livePath && error?.reason.contains("a server is accepting") == true)
        // Still the live server's socket: a client reaches it.
        let client = try rawClient(to: .unix(UNIXAddress(livePath)))
        close(client)
        #expect(try Socket.accept(live).map { close($0.descriptor) } != nil)

        let filePath = uniqueSocketPath("regular")
        defer { unlink(filePath) }
        let file = open(filePath, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        close(file)
        #expect(throws: CannotListenError.self) {
            try reactor.listenUNIX(filePath, factory: factory)
        }
        #expect(fileMode(filePath).map { $0 & S_IFMT } == S_IFREG)
        #expect(factory.events.isEmpty)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("an abstract name listens without a file and cannot be bound twice", arguments: Backend.available)
    func abstractNamespace(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let name = "\0" + uniqueSocketPath("abstract")
        let factory = LifecycleFactory()
        let port = try reactor.listenUNIX(name, factory: factory)
        let host = try #require(port.host as? UNIXAddress)
        #expect(host.isAbstract && host.name == name)
        #expect(fileMode(String(name.dropFirst())) == nil)
        #expect(throws: CannotListenError.self) { try reactor.listenUNIX(name, factory: factory) }
        let client = try rawClient(to: .unix(UNIXAddress(name)))
        defer { close(client) }
        try turn(reactor) { readAvailable(client) == [] }
        #expect(factory.built.count == 1)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("stopListening leaves a socket file another server bound since", arguments: Backend.available)
    func foreignFileKept(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let path = uniqueSocketPath("replaced")
        defer { unlink(path) }
        let port = try reactor.listenUNIX(path, factory: LifecycleFactory())
        unlink(path)
        let other = try Socket.makeListeningSocket(on: .unix(UNIXAddress(path)), backlog: 4)
        defer { close(other) }
        port.stopListening()
        #expect(fileMode(path).map { $0 & S_IFMT } == S_IFSOCK)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a path too long for sun_path is a CannotListenError", arguments: Backend.available)
    func pathTooLong(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let path = "/tmp/" + String(repeating: "x", count: 200)
        #expect(throws: CannotListenError.self) { try reactor.listenUNIX(path, factory: LifecycleFactory()) }
        expectNoLeaksAfterTurn(reactor)
    }
}
