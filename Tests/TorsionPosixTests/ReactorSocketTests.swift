import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("ReactorSocket: adopting sockets made elsewhere, on every backend")
struct ReactorSocketTests {
    @Test(
        "adoptStreamPort accepts on a duplicate; stopListening closes only the duplicate",
        arguments: Backend.available)
    func adoptPort(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let listener = try LoopbackListener()
        defer { close(listener.descriptor) }
        let server = EchoServerFactory()
        let port = try reactor.adoptStreamPort(listener.descriptor, addressFamily: .inet, factory: server)
        #expect((port.host as? IPv4Address)?.port == listener.port)
        #expect((port as? StreamPort)?.descriptor != listener.descriptor)
        let client = RecordingClientFactory()
        client.make = {
            let made = RecordingProtocol()
            made.onMade = { $0.transport?.loseConnection() }
            return made
        }
        reactor.connectTCP(host: "127.0.0.1", port: listener.port, factory: client)
        try turn(reactor) { client.events.last == "stop" && server.protocols.first?.lost.count == 1 }
        #expect(server.numPorts == 1)
        port.stopListening()
        expectNoLeaksAfterTurn(reactor)
        #expect(server.numPorts == 0)
        #expect(Descriptors.isOpen(listener.descriptor))
        #expect(throws: CannotListenError.self) { try port.startListening() }
    }

    @Test("adoptStreamConnection runs a protocol on a duplicate of a connected socket", arguments: Backend.available)
    func adoptConnection(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (ours, theirs) = try makeSocketPair()
        defer {
            close(ours)
            close(theirs)
        }
        let factory = EchoServerFactory()
        try reactor.adoptStreamConnection(ours, addressFamily: .unix, factory: factory)
        let message: [UInt8] = Array("ping".utf8)
        _ = message.withUnsafeBytes { write(theirs, $0.baseAddress, $0.count) }
        try turn(reactor) { factory.protocols.first?.received == message }
        try turn(reactor) { readAvailable(theirs) == message }
        factory.protocols.first?.transport?.loseConnection()
        try turn(reactor) { factory.protocols.first?.lost.count == 1 }
        #expect(Descriptors.isOpen(ours))
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("a factory that refuses an adopted connection closes the duplicate", arguments: Backend.available)
    func adoptConnectionRefused(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (ours, theirs) = try makeSocketPair()
        defer {
            close(ours)
            close(theirs)
        }
        let factory = LifecycleFactory()
        try reactor.adoptStreamConnection(ours, addressFamily: .unix, factory: factory)
        #expect(factory.built.count == 1)
        #expect(Descriptors.isOpen(ours))
        // `ours` is still open, so the peer sees no end of file: the
        // duplicate closing is visible only in the reactor's books.
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("sockets of another family or state are refused with InvalidAddressError", arguments: Backend.available)
    func adoptWrongSocket(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let listener = try LoopbackListener()
        defer { close(listener.descriptor) }
        let (ours, theirs) = try makeSocketPair()
        defer {
            close(ours)
            close(theirs)
        }
        let factory = LifecycleFactory()
        #expect(throws: InvalidAddressError.self) {
            try reactor.adoptStreamPort(listener.descriptor, addressFamily: .inet6, factory: factory)
        }
        #expect(throws: InvalidAddressError.self) {
            try reactor.adoptStreamPort(ours, addressFamily: .unix, factory: factory)
        }
        #expect(throws: InvalidAddressError.self) {
            try reactor.adoptStreamConnection(listener.descriptor, addressFamily: .inet, factory: factory)
        }
        let pipe = try TestPipe()
        defer { pipe.close() }
        #expect(throws: InvalidAddressError.self) {
            try reactor.adoptStreamConnection(pipe.readEnd, addressFamily: .unix, factory: factory)
        }
        #expect(factory.events.isEmpty && factory.built.isEmpty)
        expectNoLeaksAfterTurn(reactor)
    }

    @Test("adoptDatagramPort is not supported yet and says so", arguments: Backend.available)
    func adoptDatagram(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        #expect(throws: NotSupportedYetError(feature: "adoptDatagramPort")) {
            try reactor.adoptDatagramPort(0, addressFamily: .inet, protocol: DatagramProtocol(), maxPacketSize: 8192)
        }
    }
}
