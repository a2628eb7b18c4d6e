import Glibc
import Testing
import TorsionCore
import TorsionPosix

/// Waits (without sleeping: poll returns as soon as the event is there) up
/// to 5 s for `events` on `descriptor`; the limit only guards against a hang.
private func waitFor(_ events: Int16, on descriptor: Int32) -> Bool {
    var entry = pollfd(fd: descriptor, events: events, revents: 0)
    return poll(&entry, 1, 5000) == 1
}

/// A UNIX socket path unique to this process and test.
private func temporaryPath(_ name: String) -> String {
    "/tmp/torsion-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name).sock"
}

private let loopback = SocketAddress.ipv4(IPv4Address(host: "127.0.0.1", port: 0))
private let loopback6 = SocketAddress.ipv6(IPv6Address(host: "::1", port: 0))

/// `true` when `::1` can be bound (containers often disable IPv6).
private let ipv6LoopbackAvailable: Bool = {
    guard let descriptor = try? Socket.makeSocket(family: AF_INET6, kind: .stream) else { return false }
    defer { close(descriptor) }
    return (try? Socket.bind(descriptor, to: loopback6)) != nil
}()

private func port(of descriptor: Int32) throws -> Int {
    guard case .ipv4(let address) = try Socket.localAddress(descriptor) else {
        throw SocketAddressError.unsupportedFamily(0)
    }
    return address.port
}

@Suite("Socket helpers over loopback")
struct SocketTests {
    @Test("sockets are non-blocking and close-on-exec; listeners set SO_REUSEADDR")
    func socketFlags() throws {
        let listener = try Socket.makeListeningSocket(on: loopback, backlog: 8)
        defer { close(listener) }
        #expect(fcntl(listener, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(listener, F_GETFD) & FD_CLOEXEC != 0)
        #expect(try Socket.option(listener, level: SOL_SOCKET, name: SO_REUSEADDR) != 0)
    }

    @Test("port 0 reports the port the system chose")
    func portZero() throws {
        let listener = try Socket.makeListeningSocket(on: loopback, backlog: 8)
        defer { close(listener) }
        #expect(try port(of: listener) > 0)
    }

    @Test("binding a port in use is a CannotListenError naming the port and EADDRINUSE")
    func bindConflict() throws {
        let first = try Socket.makeListeningSocket(on: loopback, backlog: 8)
        defer { close(first) }
        let taken = try port(of: first)
        let address = SocketAddress.ipv4(IPv4Address(host: "127.0.0.1", port: taken))
        let error = #expect(throws: CannotListenError.self) {
            let second = try Socket.makeListeningSocket(on: address, backlog: 8)
            close(second)
        }
        #expect(error?.interface == "127.0.0.1" && error?.port == String(taken))
        #expect(error?.reason.contains(String(cString: strerror(EADDRINUSE))) == true)
    }

    @Test("with reusePort two listeners share a port")
    func reusePort() throws {
        let first = try Socket.makeListeningSocket(on: loopback, backlog: 8, reusePort: true)
        defer { close(first) }
        let address = SocketAddress.ipv4(IPv4Address(host: "127.0.0.1", port: try port(of: first)))
        let second = try Socket.makeListeningSocket(on: address, backlog: 8, reusePort: true)
        defer { close(second) }
        #expect(try Socket.option(second, level: SOL_SOCKET, name: SO_REUSEPORT) != 0)
    }

    @Test("connect, accept and the addresses of both ends over IPv4 TCP loopback")
    func tcpConnectAccept() throws {
        try checkConnectAccept(on: loopback)
    }

    @Test(
        "connect, accept and the addresses of both ends over IPv6 TCP loopback",
        .enabled(if: ipv6LoopbackAvailable, "IPv6 is disabled on this host"))
    func tcp6ConnectAccept() throws {
        try checkConnectAccept(on: loopback6)
    }

    private func checkConnectAccept(on address: SocketAddress) throws {
        let listener = try Socket.makeListeningSocket(on: address, backlog: 8)
        defer { close(listener) }
        #expect(try Socket.accept(listener) == nil)

        let server = try Socket.localAddress(listener)
        let client = try Socket.makeSocket(family: address.family, kind: .stream)
        defer { close(client) }
        if try Socket.connect(client, to: server) == .pending {
            #expect(waitFor(Int16(POLLOUT), on: client))
            try Socket.finishConnect(client)
        }
        #expect(waitFor(Int16(POLLIN), on: listener))
        let accepted = try #require(try Socket.accept(listener))
        defer { close(accepted.descriptor) }
        #expect(fcntl(accepted.descriptor, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(accepted.descriptor, F_GETFD) & FD_CLOEXEC != 0)
        #expect(try Socket.peerAddress(client) == server)
        #expect(try Socket.localAddress(client) == accepted.peer)
        #expect(try Socket.peerAddress(accepted.descriptor) == accepted.peer)
    }

    @Test("TCP_NODELAY and SO_KEEPALIVE can be switched on and off")
    func tcpOptions() throws {
        let socket = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { close(socket) }
        try Socket.setNoDelay(socket, true)
        try Socket.setKeepAlive(socket, true)
        #expect(try Socket.option(socket, level: Int32(IPPROTO_TCP), name: TCP_NODELAY) != 0)
        #expect(try Socket.option(socket, level: SOL_SOCKET, name: SO_KEEPALIVE) != 0)
        try Socket.setNoDelay(socket, false)
        try Socket.setKeepAlive(socket, false)
        #expect(try Socket.option(socket, level: Int32(IPPROTO_TCP), name: TCP_NODELAY) == 0)
        #expect(try Socket.option(socket, level: SOL_SOCKET, name: SO_KEEPALIVE) == 0)
    }

    @Test("connecting to a port nobody listens on fails with ECONNREFUSED")
    func connectionRefused() throws {
        // Bound but not listening: the port is ours, so no one else can
        // listen on it, and the kernel answers a SYN with a reset.
        let reserved = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { close(reserved) }
        try Socket.bind(reserved, to: loopback)
        let client = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { close(client) }
        let server = try Socket.localAddress(reserved)
        let error = #expect(throws: SystemError.self) {
            let started: Socket.ConnectResult
            do throws(SocketOperationError) {
                started = try Socket.connect(client, to: server)
            } catch .system(let error) {
                throw error
            } catch .address(let error) {
                Issue.record("address refused: \(error)")
                return
            }
            if started == .pending {
                #expect(waitFor(Int16(POLLOUT), on: client))
                try Socket.finishConnect(client)
            }
        }
        #expect(error?.errno == ECONNREFUSED && error?.call == "connect")
    }

    @Test("UNIX path and abstract sockets listen, connect, accept and report their names")
    func unixSockets() throws {
        let path = temporaryPath("listen")
        defer { unlink(path) }
        for name in [path, "\0" + temporaryPath("abstract")] {
            let address = SocketAddress.unix(UNIXAddress(name))
            let listener = try Socket.makeListeningSocket(on: address, backlog: 8)
            defer { close(listener) }
            #expect(try Socket.localAddress(listener) == address)
            let client = try Socket.makeSocket(family: AF_UNIX, kind: .stream)
            defer { close(client) }
            #expect(try Socket.connect(client, to: address) == .connected)
            let accepted = try #require(try Socket.accept(listener))
            defer { close(accepted.descriptor) }
            #expect(accepted.peer == .unix(UNIXAddress(nil)))
            #expect(try Socket.peerAddress(client) == address)
        }
    }

    @Test("a UNIX path in use is a CannotListenError; a missing one refuses connect")
    func unixErrors() throws {
        let path = temporaryPath("busy")
        defer { unlink(path) }
        let address = SocketAddress.unix(UNIXAddress(path))
        let listener = try Socket.makeListeningSocket(on: address, backlog: 8)
        defer { close(listener) }
        let error = #expect(throws: CannotListenError.self) {
            close(try Socket.makeListeningSocket(on: address, backlog: 8))
        }
        #expect(error?.port == path && error?.reason.contains(String(cString: strerror(EADDRINUSE))) == true)

        let client = try Socket.makeSocket(family: AF_UNIX, kind: .stream)
        defer { close(client) }
        #expect(throws: SocketOperationError.system(SystemError(errno: ENOENT, call: "connect"))) {
            try Socket.connect(client, to: .unix(UNIXAddress(temporaryPath("missing"))))
        }
        #expect(throws: SocketOperationError.system(SystemError(errno: ECONNREFUSED, call: "connect"))) {
            try Socket.connect(client, to: .unix(UNIXAddress("\0" + temporaryPath("nobody"))))
        }
    }

    @Test("an invalid address fails before any call, and listening on it is a CannotListenError")
    func invalidAddress() throws {
        let socket = try Socket.makeSocket(family: AF_INET, kind: .stream)
        defer { close(socket) }
        #expect(throws: SocketOperationError.address(.invalidHost("example.com", family: "IPv4"))) {
            try Socket.bind(socket, to: .ipv4(IPv4Address(host: "example.com", port: 0)))
        }
        #expect(throws: CannotListenError.self) {
            close(
                try Socket.makeListeningSocket(on: .unix(UNIXAddress(String(repeating: "x", count: 200))), backlog: 1))
        }
    }
}

@Suite("AddressResolver")
struct AddressResolverTests {
    @Test("localhost resolves to a loopback address with the port")
    func localhost() throws {
        let addresses = try AddressResolver.resolve(host: "localhost", port: 80)
        #expect(
            addresses.contains(.ipv4(IPv4Address(host: "127.0.0.1", port: 80)))
                || addresses.contains(.ipv6(IPv6Address(host: "::1", port: 80))))
        #expect(Set(addresses).count == addresses.count)
    }

    @Test("numeric literals resolve without the name service, filtered by family")
    func numeric() throws {
        #expect(
            try AddressResolver.resolve(host: "::1", port: 5, numericHostOnly: true)
                == [.ipv6(IPv6Address(host: "::1", port: 5))])
        #expect(
            try AddressResolver.resolve(host: "10.1.2.3", port: 0, family: .ipv4, numericHostOnly: true)
                == [.ipv4(IPv4Address(host: "10.1.2.3", port: 0))])
        #expect(throws: DNSLookupError.self) {
            try AddressResolver.resolve(host: "10.1.2.3", port: 0, family: .ipv6, numericHostOnly: true)
        }
    }

    // A name that is not a literal, with numericHostOnly, fails inside
    // getaddrinfo without asking DNS: deterministic, unlike a lookup of
    // name.invalid, which depends on the resolver configuration.
    @Test("an unresolvable name is a DNSLookupError naming the host")
    func unresolvable() {
        let error = #expect(throws: DNSLookupError.self) {
            try AddressResolver.resolve(host: "name.invalid", port: 80, numericHostOnly: true)
        }
        #expect(error?.host == "name.invalid" && error?.reason?.isEmpty == false)
        #expect(throws: DNSLookupError(host: "localhost", reason: "port 70000 is outside 0-65535")) {
            try AddressResolver.resolve(host: "localhost", port: 70000)
        }
    }
}
