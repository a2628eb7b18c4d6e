import Glibc
import TorsionCore

/// A feature a reactor backend does not provide yet: the call exists to
/// complete its protocol, and fails with this error instead of pretending.
public struct NotSupportedYetError: Error, CustomStringConvertible, Equatable {
    /// What is missing, for example `"adoptDatagramPort"`.
    public let feature: String
    /// Makes the error.
    public init(feature: String) { self.feature = feature }
    /// Names the missing feature.
    public var description: String { "NotSupportedYetError: \(feature) is not supported yet" }
}

// MARK: - ReactorSocket

extension Reactor: ReactorSocket {
    /// Accepts connections on a listening stream socket made elsewhere (a
    /// parent process, systemd socket activation). The reactor takes a
    /// nonblocking, close-on-exec duplicate of `fileDescriptor`; the caller
    /// still owns and closes the original (both share one open file, so
    /// the original becomes nonblocking too). `stopListening()` closes the
    /// duplicate; the port cannot listen again. Reactor thread only.
    ///
    /// - Throws: ``InvalidAddressError`` when the descriptor is not a
    ///   listening stream socket of `addressFamily`, ``SystemError`` when it
    ///   cannot be duplicated.
    public func adoptStreamPort(
        _ fileDescriptor: Int32, addressFamily: AddressFamily, factory: Factory
    ) throws -> any ListeningPort {
        assertInIOThread()
        let descriptor = try duplicateStreamSocket(fileDescriptor, addressFamily, listening: true)
        let port = StreamPort(reactor: self, endpoint: .adopted(descriptor: descriptor), factory: factory, backlog: 0)
        // On failure the port has closed the duplicate already.
        try port.startListening()
        return port
    }

    /// Runs a protocol from `factory` on a connected stream socket made
    /// elsewhere, through a nonblocking, close-on-exec duplicate of
    /// `fileDescriptor` (the caller still owns the original, which shares
    /// the nonblocking flag). A factory returning no protocol closes the
    /// duplicate. Reactor thread only.
    ///
    /// - Throws: ``InvalidAddressError`` when the descriptor is not a
    ///   connected stream socket of `addressFamily`, ``SystemError`` when
    ///   it cannot be duplicated.
    public func adoptStreamConnection(_ fileDescriptor: Int32, addressFamily: AddressFamily, factory: Factory) throws {
        assertInIOThread()
        let descriptor = try duplicateStreamSocket(fileDescriptor, addressFamily, listening: false)
        adoptDescriptor(descriptor)
        let host: SocketAddress
        let peer: SocketAddress
        do {
            host = try Socket.localAddress(descriptor)
            peer = try Socket.peerAddress(descriptor)
        } catch {
            closeDescriptor(descriptor)
            throw InvalidAddressError(address: "fd \(fileDescriptor)", reason: "not a connected socket: \(error)")
        }
        guard let built = factory.buildProtocol(address: peer.address) else {
            return closeDescriptor(descriptor)
        }
        makeStreamConnection(descriptor: descriptor, host: host, peer: peer).start(protocol: built) { _ in }
    }

    /// Datagram ports (UDP) come with a later part of the reactor; until
    /// then this fails rather than pretend. Reactor thread only.
    ///
    /// - Throws: ``NotSupportedYetError`` always.
    public func adoptDatagramPort(
        _ fileDescriptor: Int32, addressFamily: AddressFamily, protocol: DatagramProtocol, maxPacketSize: Int
    ) throws -> any DatagramPort {
        throw NotSupportedYetError(feature: "adoptDatagramPort")
    }

    /// A nonblocking, close-on-exec duplicate of `original`, checked to be
    /// a stream socket of `family`, listening or not as asked.
    private func duplicateStreamSocket(
        _ original: Int32, _ family: AddressFamily, listening: Bool
    ) throws -> Int32 {
        let expected: Int32 =
            switch family {
            case .inet: AF_INET
            case .inet6: AF_INET6
            case .unix: AF_UNIX
            }
        let name = "fd \(original)"
        guard (try? Socket.option(original, level: SOL_SOCKET, name: SO_TYPE)) == Int32(SOCK_STREAM.rawValue) else {
            throw InvalidAddressError(address: name, reason: "not a stream socket")
        }
        let actual = try? Socket.option(original, level: SOL_SOCKET, name: SO_DOMAIN)
        guard actual == expected else {
            throw InvalidAddressError(
                address: name, reason: "the socket's family is \(actual.map(String.init) ?? "unknown"), not \(family)")
        }
        let accepting = (try? Socket.option(original, level: SOL_SOCKET, name: SO_ACCEPTCONN)) ?? 0
        guard (accepting != 0) == listening else {
            throw InvalidAddressError(address: name, reason: listening ? "not listening" : "a listening socket")
        }
        let duplicate = try retryingInterrupts("fcntl(F_DUPFD_CLOEXEC)") { fcntl(original, F_DUPFD_CLOEXEC, 0) }
        do {
            try Descriptors.setNonBlocking(duplicate)
        } catch {
            close(duplicate)
            throw error
        }
        return duplicate
    }
}
