import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Whether something exists at `path` (a socket file, here).
private func exists(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0
}

/// The permission bits of the file at `path`, or nil when absent.
private func permissions(_ path: String) -> UInt32? {
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    return UInt32(status.st_mode) & 0o777
}

@Suite("UNIX sockets: abstract names, socket files, modes on every backend")
struct UNIXTests {
    /// Listens on `name`, connects a client that sends "ping" and waits for
    /// "pong", and returns what each end reported as addresses.
    func pingPong(_ reactor: Reactor, name: String, mode: UInt32 = 0o666) throws -> [String: (any Address)?] {
        let network = reactor
        let server = RecordingServerFactory()
        let client = RecordingClientFactory()
        let port = try network.listenUNIX(name, factory: server, backlog: 50, mode: mode)
        var seen: [String: (any Address)?] = ["listening": port.host]
        let bothLost = Countdown(2) { stopListening([port], thenStop: reactor) }
        server.configure = { proto in
            proto.onMade = { proto in seen["serverHost"] = proto.transport?.host }
            proto.onData = { proto, _ in
                if proto.received == Array("ping".utf8) {
                    proto.transport?.write(Array("pong".utf8))
                    proto.transport?.loseConnection()
                }
            }
            proto.onLost = { _, _ in bothLost.tick() }
        }
        client.configure = { proto in
            proto.onMade = { proto in
                seen["clientPeer"] = proto.transport?.peer
                proto.transport?.write(Array("ping".utf8))
            }
            proto.onLost = { proto, _ in
                seen["clientReceived"] = UNIXAddress(String(decoding: proto.received, as: UTF8.self))
                bothLost.tick()
            }
        }
        reactor.callWhenRunning { network.connectUNIX(name, factory: client, timeout: 10) }
        try reactor.run()
        server.dropHooks()
        client.dropHooks()
        return seen
    }

    @Test(
        "an abstract-namespace name listens and connects without a file; both ends report the name",
        arguments: Backend.available)
    func abstractName(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let name = uniqueAbstractName()
            let seen = try pingPong(reactor, name: name)
            let listening = try #require(seen["listening"] as? UNIXAddress)
            #expect(listening.isAbstract)
            #expect(listening.name == name)
            #expect((seen["serverHost"] as? UNIXAddress)?.name == name)
            #expect((seen["clientPeer"] as? UNIXAddress)?.name == name)
            #expect((seen["clientReceived"] as? UNIXAddress)?.name == "pong")
        }
    }

    @Test(
        "a stale socket file is replaced, a live one refused with CannotListenError, the file removed on stopListening",
        arguments: Backend.available)
    func staleSocketFile(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let path = uniqueSocketPath()
            defer { unlink(path) }
            // A server that died: its socket file stays, nobody listens.
            // Bound but never listening, so it refuses connections even if
            // a child process being spawned by a parallel test briefly
            // holds a copy of the descriptor after it is closed here.
            let dead = try Socket.makeSocket(family: AF_UNIX, kind: .stream)
            try Socket.bind(dead, to: .unix(UNIXAddress(path)))
            close(dead)
            #expect(exists(path))
            let network = reactor
            let live = try network.listenUNIX(path, factory: RecordingServerFactory(), backlog: 50, mode: 0o666)
            let error = try #require(throws: CannotListenError.self) {
                try network.listenUNIX(path, factory: RecordingServerFactory(), backlog: 50, mode: 0o666)
            }
            #expect(error.port == path)
            #expect(exists(path), "refusing to listen must not remove the live socket file")
            live.stopListening()
            #expect(!exists(path))
            // The replaced path serves connections.
            let seen = try pingPong(reactor, name: path)
            #expect((seen["clientReceived"] as? UNIXAddress)?.name == "pong")
            #expect((seen["listening"] as? UNIXAddress)?.name == path)
            #expect(!exists(path))
        }
    }

    @Test("listenUNIX applies the mode to the socket file", arguments: Backend.available)
    func socketFileMode(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let path = uniqueSocketPath()
            defer { unlink(path) }
            let network = reactor
            let port = try network.listenUNIX(path, factory: RecordingServerFactory(), backlog: 50, mode: 0o600)
            #expect(permissions(path) == 0o600)
            var removed = false
            reactor.callWhenRunning {
                port.stopListening().addBoth { (_: Result<Void, Failure>) in
                    removed = !exists(path)
                    try? reactor.stop()
                }
            }
            try reactor.run()
            #expect(removed)
        }
    }

    @Test(
        "a UNIX port stopped with stopListening listens again on the same name with startListening",
        arguments: Backend.available)
    func restartListening(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let name = uniqueAbstractName()
            let server = RecordingServerFactory()
            let port = try reactor.listenUNIX(name, factory: server, backlog: 50, mode: 0o666)
            let client = RecordingClientFactory()
            var received: [UInt8] = []
            var failures: [Failure] = []
            server.configure = { proto in
                proto.onMade = { proto in
                    proto.transport?.write(Array("again".utf8))
                    proto.transport?.loseConnection()
                }
            }
            client.configure = { proto in
                proto.onLost = { proto, _ in
                    received = proto.received
                    stopListening([port], thenStop: reactor)
                }
            }
            client.onFailed = { _, reason in
                failures.append(reason)
                try? reactor.stop()
            }
            reactor.callWhenRunning {
                port.stopListening().addBoth { (_: Result<Void, Failure>) in
                    do {
                        try port.startListening()
                        reactor.connectUNIX(name, factory: client, timeout: 10)
                    } catch {
                        Issue.record(error)
                        try? reactor.stop()
                    }
                }
            }
            try reactor.run()
            server.dropHooks()
            client.dropHooks()
            #expect(failures.isEmpty, "\(failures)")
            #expect(received == Array("again".utf8))
            #expect(server.startCount == 2 && server.stopCount == 2)
        }
    }

    @Test(
        "connectUNIX to a path where no socket file exists fails with ConnectError (ENOENT)",
        arguments: Backend.available)
    func connectToMissingPath(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let client = RecordingClientFactory()
            var built = 0
            client.configure = { _ in built += 1 }
            client.onFailed = { _, _ in try? reactor.stop() }
            reactor.callWhenRunning { reactor.connectUNIX(uniqueSocketPath(), factory: client, timeout: 10) }
            try reactor.run()
            client.dropHooks()
            #expect(client.failures.count == 1)
            #expect(client.failures.first?.error is ConnectError, "\(client.failures)")
            #expect(built == 0)
        }
    }
}
