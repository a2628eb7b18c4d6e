/// The address of one end of a connection or of a listening port:
/// Twisted's `IAddress`. Addresses are values and may cross threads.
public protocol Address: Sendable, CustomStringConvertible {}

/// The transport kind an IP address was seen on.
public enum IPTransportKind: String, Sendable, Hashable {
    /// A stream (TCP) socket.
    case tcp = "TCP"
    /// A datagram (UDP) socket.
    case udp = "UDP"
}

/// An IPv4 endpoint (Twisted's `IPv4Address`): `host` is dotted-quad text.
public struct IPv4Address: Address, Hashable {
    /// TCP or UDP.
    public var type: IPTransportKind
    /// Dotted-quad host, for example `127.0.0.1`.
    public var host: String
    /// Port number, 0–65535.
    public var port: Int

    /// Makes an address.
    public init(_ type: IPTransportKind = .tcp, host: String, port: Int) {
        self.type = type
        self.host = host
        self.port = port
    }

    /// `IPv4Address(type='TCP', host='127.0.0.1', port=8000)`, as Twisted prints it.
    public var description: String {
        "IPv4Address(type='\(type.rawValue)', host='\(host)', port=\(port))"
    }
}

/// An IPv6 endpoint (Twisted's `IPv6Address`).
public struct IPv6Address: Address, Hashable {
    /// TCP or UDP.
    public var type: IPTransportKind
    /// Textual IPv6 host, for example `::1`, without brackets.
    public var host: String
    /// Port number, 0–65535.
    public var port: Int
    /// The flow label (`sin6_flowinfo`).
    public var flowInfo: UInt32
    /// The scope (interface) identifier for link-local addresses.
    public var scopeID: UInt32

    /// Makes an address.
    public init(_ type: IPTransportKind = .tcp, host: String, port: Int, flowInfo: UInt32 = 0, scopeID: UInt32 = 0) {
        self.type = type
        self.host = host
        self.port = port
        self.flowInfo = flowInfo
        self.scopeID = scopeID
    }

    /// `IPv6Address(type='TCP', host='::1', port=8000)`.
    public var description: String {
        "IPv6Address(type='\(type.rawValue)', host='\(host)', port=\(port))"
    }
}

/// A UNIX-domain socket address (Twisted's `UNIXAddress`).
///
/// `name` is the filesystem path; a path beginning with a NUL byte
/// (written `"\0name"`) is in Linux's abstract namespace. `nil` is an
/// unnamed socket, such as the client end of a connection.
public struct UNIXAddress: Address, Hashable {
    /// The socket path, or `nil` when unnamed.
    public var name: String?

    /// Makes an address.
    public init(_ name: String?) { self.name = name }

    /// `true` for a Linux abstract-namespace name (leading NUL).
    public var isAbstract: Bool { name?.utf8.first == 0 }

    /// `UNIXAddress('/tmp/sock')`; abstract names are shown with a leading `@`.
    public var description: String {
        guard let name else { return "UNIXAddress(None)" }
        if isAbstract { return "UNIXAddress('@\(name.dropFirst())')" }
        return "UNIXAddress('\(name)')"
    }
}
