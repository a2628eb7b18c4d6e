import Glibc
import TorsionCore

/// A socket address as the kernel takes it, in Swift terms: an IPv4, IPv6 or
/// UNIX-domain address of TorsionCore, convertible to and from
/// `sockaddr_storage`. Values may cross threads.
///
/// IP hosts are numeric literals here (names are resolved first with
/// ``AddressResolver``). A UNIX name beginning with NUL is in Linux's
/// abstract namespace.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address and port.
    case ipv4(IPv4Address)
    /// An IPv6 address, port, flow label and scope.
    case ipv6(IPv6Address)
    /// A UNIX-domain socket name (`nil`: unnamed).
    case unix(UNIXAddress)

    /// The longest UNIX name: the size of `sun_path` (108 on Linux). A file
    /// path also needs its terminating NUL, so it may have one byte less;
    /// an abstract name (leading NUL included) may fill it.
    public static let unixPathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Wraps a TorsionCore address.
    ///
    /// - Throws: ``SocketAddressError/unsupportedAddress(_:)`` for another kind.
    public init(_ address: any Address) throws(SocketAddressError) {
        switch address {
        case let address as IPv4Address: self = .ipv4(address)
        case let address as IPv6Address: self = .ipv6(address)
        case let address as UNIXAddress: self = .unix(address)
        default: throw .unsupportedAddress(address.description)
        }
    }

    /// The wrapped TorsionCore address.
    public var address: any Address {
        switch self {
        case .ipv4(let address): address
        case .ipv6(let address): address
        case .unix(let address): address
        }
    }

    /// `AF_INET`, `AF_INET6` or `AF_UNIX`.
    public var family: Int32 {
        switch self {
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        case .unix: AF_UNIX
        }
    }

    /// The wrapped address's own description.
    public var description: String { address.description }

    // MARK: From the kernel

    /// Reads an address the kernel wrote (from `accept`, `getsockname`,
    /// `getpeername` or `getaddrinfo`); `kind` labels IP addresses.
    ///
    /// - Throws: ``SocketAddressError/unsupportedFamily(_:)`` for another family,
    ///   ``SocketAddressError/truncated(family:length:)`` when `length` is too
    ///   short for the family.
    public init(
        storage: sockaddr_storage, length: socklen_t, kind: IPTransportKind = .tcp
    ) throws(SocketAddressError) {
        var storage = storage
        let length = Int(length)
        let family = Int32(storage.ss_family)
        // SAFETY: sockaddr_storage is large and aligned enough for every
        // sockaddr type; the family says which one the kernel wrote, and
        // the length is checked before reading it.
        let result: Result<SocketAddress, SocketAddressError> = withUnsafeBytes(of: &storage) { raw in
            switch family {
            case AF_INET:
                guard length >= MemoryLayout<sockaddr_in>.size else {
                    return .failure(.truncated(family: family, length: length))
                }
                let address = raw.load(as: sockaddr_in.self)
                let text = withUnsafeBytes(of: address.sin_addr) {
                    Self.presentation(AF_INET, $0, capacity: Int(INET_ADDRSTRLEN))
                }
                return .success(.ipv4(IPv4Address(kind, host: text, port: Int(UInt16(bigEndian: address.sin_port)))))
            case AF_INET6:
                guard length >= MemoryLayout<sockaddr_in6>.size else {
                    return .failure(.truncated(family: family, length: length))
                }
                let address = raw.load(as: sockaddr_in6.self)
                let text = withUnsafeBytes(of: address.sin6_addr) {
                    Self.presentation(AF_INET6, $0, capacity: Int(INET6_ADDRSTRLEN))
                }
                return .success(
                    .ipv6(
                        IPv6Address(
                            kind, host: text, port: Int(UInt16(bigEndian: address.sin6_port)),
                            flowInfo: UInt32(bigEndian: address.sin6_flowinfo), scopeID: address.sin6_scope_id)))
            case AF_UNIX:
                let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
                guard length >= pathOffset else { return .failure(.truncated(family: family, length: length)) }
                let bytes = Array(raw[pathOffset..<min(length, MemoryLayout<sockaddr_un>.size)])
                if bytes.isEmpty { return .success(.unix(UNIXAddress(nil))) }
                // An abstract name is exactly the bytes given, leading NUL
                // included; a file path ends at its first NUL.
                let name = bytes[0] == 0 ? bytes[...] : bytes.prefix { $0 != 0 }
                return .success(.unix(UNIXAddress(String(decoding: name, as: UTF8.self))))
            default:
                return .failure(.unsupportedFamily(family))
            }
        }
        self = try result.get()
    }

    /// `inet_ntop` of `address` for `family`.
    private static func presentation(_ family: Int32, _ address: UnsafeRawBufferPointer, capacity: Int) -> String {
        var buffer = [CChar](repeating: 0, count: capacity)
        // inet_ntop cannot fail here: the family is supported and the
        // buffer has the size the standard gives for it.
        _ = inet_ntop(family, address.baseAddress, &buffer, socklen_t(capacity))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: To the kernel

    /// Calls `body` with this address as a `sockaddr` and its length, for
    /// `bind`, `connect` and `sendto`. The pointer is valid only inside `body`.
    ///
    /// - Throws: ``SocketAddressError`` when the address cannot be expressed:
    ///   a host that is not a numeric literal of its family, a port outside
    ///   0–65535, an unnamed or too-long UNIX name, or a file path containing NUL.
    public func withSockAddr<Result>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> Result
    ) throws(SocketOperationError) -> Result {
        var storage = sockaddr_storage()
        let length: socklen_t
        do {
            length = try fill(&storage)
        } catch {
            throw .address(error)
        }
        do {
            // SAFETY: `fill` wrote a valid sockaddr of `length` bytes into
            // storage, which outlives the call.
            return try withUnsafePointer(to: &storage) { pointer throws(SystemError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemError) in
                    try body(address, length)
                }
            }
        } catch {
            throw .system(error)
        }
    }

    /// Writes the sockaddr for this address into `storage`; returns its length.
    private func fill(_ storage: inout sockaddr_storage) throws(SocketAddressError) -> socklen_t {
        switch self {
        case .ipv4(let address):
            var raw = sockaddr_in()
            raw.sin_family = sa_family_t(AF_INET)
            raw.sin_port = try Self.networkPort(address.port)
            guard inet_pton(AF_INET, address.host.isEmpty ? "0.0.0.0" : address.host, &raw.sin_addr) == 1 else {
                throw .invalidHost(address.host, family: "IPv4")
            }
            return Self.store(raw, in: &storage)
        case .ipv6(let address):
            var raw = sockaddr_in6()
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = try Self.networkPort(address.port)
            raw.sin6_flowinfo = address.flowInfo.bigEndian
            raw.sin6_scope_id = address.scopeID
            guard inet_pton(AF_INET6, address.host.isEmpty ? "::" : address.host, &raw.sin6_addr) == 1 else {
                throw .invalidHost(address.host, family: "IPv6")
            }
            return Self.store(raw, in: &storage)
        case .unix(let address):
            return try Self.fillUNIX(address, &storage)
        }
    }

    private static func fillUNIX(
        _ address: UNIXAddress, _ storage: inout sockaddr_storage
    ) throws(SocketAddressError) -> socklen_t {
        guard let name = address.name else { throw .unnamedUNIXAddress }
        let bytes = Array(name.utf8)
        if !address.isAbstract {
            guard !bytes.isEmpty else { throw .unnamedUNIXAddress }
            guard !bytes.contains(0) else { throw .nulInUNIXPath(name) }
        }
        // A file path needs room for its terminating NUL; an abstract name
        // is counted by the length alone.
        let limit = address.isAbstract ? unixPathCapacity : unixPathCapacity - 1
        guard bytes.count <= limit else { throw .unixPathTooLong(name, bytes: bytes.count, limit: limit) }
        var raw = sockaddr_un()
        raw.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &raw.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        _ = store(raw, in: &storage)
        return socklen_t(pathOffset + bytes.count + (address.isAbstract ? 0 : 1))
    }

    private static func networkPort(_ port: Int) throws(SocketAddressError) -> in_port_t {
        guard (0...65535).contains(port) else { throw .invalidPort(port) }
        return in_port_t(port).bigEndian
    }

    private static func store<Raw>(_ raw: Raw, in storage: inout sockaddr_storage) -> socklen_t {
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: raw, as: Raw.self) }
        return socklen_t(MemoryLayout<Raw>.size)
    }
}

/// Why an address cannot be turned into a kernel `sockaddr` or read from one.
public enum SocketAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The host is not a numeric literal of the family (names must be resolved first).
    case invalidHost(String, family: String)
    /// The port is outside 0–65535.
    case invalidPort(Int)
    /// A UNIX name longer than `sun_path` can hold (`limit` bytes).
    case unixPathTooLong(String, bytes: Int, limit: Int)
    /// A UNIX file path containing a NUL byte (only an abstract name may start with one).
    case nulInUNIXPath(String)
    /// An unnamed or empty UNIX address cannot be bound or connected to.
    case unnamedUNIXAddress
    /// An address kind sockets do not take.
    case unsupportedAddress(String)
    /// The kernel returned a family this type does not represent.
    case unsupportedFamily(Int32)
    /// The kernel's length is too short for the family's sockaddr.
    case truncated(family: Int32, length: Int)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case .invalidHost(let host, let family): "SocketAddressError: \"\(host)\" is not a numeric \(family) address"
        case .invalidPort(let port): "SocketAddressError: port \(port) is outside 0-65535"
        case .unixPathTooLong(let path, let bytes, let limit):
            "SocketAddressError: UNIX socket name \"\(path)\" is \(bytes) bytes; the limit is \(limit)"
        case .nulInUNIXPath(let path): "SocketAddressError: UNIX socket path \"\(path)\" contains a NUL byte"
        case .unnamedUNIXAddress: "SocketAddressError: an unnamed UNIX address cannot be bound or connected to"
        case .unsupportedAddress(let address): "SocketAddressError: \(address) is not a socket address"
        case .unsupportedFamily(let family): "SocketAddressError: address family \(family) is not supported"
        case .truncated(let family, let length):
            "SocketAddressError: \(length) bytes is too short for an address of family \(family)"
        }
    }
}

/// A socket operation on an address failed, either because the address
/// cannot be expressed or because the call failed.
public enum SocketOperationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The address is invalid; nothing was called.
    case address(SocketAddressError)
    /// The system call failed.
    case system(SystemError)

    /// The underlying error's description.
    public var description: String {
        switch self {
        case .address(let error): error.description
        case .system(let error): error.description
        }
    }
}
