import TorsionCore

// The records MemoryReactor keeps of each call, one struct per kind.
// Each holds the call's arguments and the fake object the call returned.
extension MemoryReactor {
    /// A `listenTCP` call.
    public struct TCPServer {
        /// The port asked for (0 stays 0: no port is chosen).
        public let port: Int
        /// The factory that would build the protocols.
        public let factory: Factory
        /// The backlog asked for.
        public let backlog: Int
        /// The interface asked for (`""` for all).
        public let interface: String
        /// The port returned.
        public let listeningPort: MemoryListeningPort
    }

    /// A `connectTCP` call.
    public struct TCPClient {
        /// The host to connect to, unresolved.
        public let host: String
        /// The port to connect to.
        public let port: Int
        /// The factory told about the attempt.
        public let factory: ClientFactory
        /// The timeout given, in seconds.
        public let timeout: Double
        /// The local address to bind, if any.
        public let bindAddress: BindAddress?
        /// The connector returned.
        public let connector: MemoryConnector
    }

    /// A `listenSSL` call.
    public struct SSLServer {
        /// The port asked for.
        public let port: Int
        /// The factory that would build the protocols.
        public let factory: Factory
        /// The TLS configuration given.
        public let contextFactory: any TLSContextFactory
        /// The backlog asked for.
        public let backlog: Int
        /// The interface asked for (`""` for all).
        public let interface: String
        /// The port returned.
        public let listeningPort: MemoryListeningPort
    }

    /// A `connectSSL` call.
    public struct SSLClient {
        /// The host to connect to, unresolved.
        public let host: String
        /// The port to connect to.
        public let port: Int
        /// The factory told about the attempt.
        public let factory: ClientFactory
        /// The TLS configuration given.
        public let contextFactory: any TLSContextFactory
        /// The timeout given, in seconds.
        public let timeout: Double
        /// The local address to bind, if any.
        public let bindAddress: BindAddress?
        /// The connector returned.
        public let connector: MemoryConnector
    }

    /// A `listenUNIX` call.
    public struct UNIXServer {
        /// The socket path asked for.
        public let path: String
        /// The factory that would build the protocols.
        public let factory: Factory
        /// The backlog asked for.
        public let backlog: Int
        /// The file mode asked for.
        public let mode: UInt32
        /// The port returned.
        public let listeningPort: MemoryListeningPort
    }

    /// A `connectUNIX` call.
    public struct UNIXClient {
        /// The socket path to connect to.
        public let path: String
        /// The factory told about the attempt.
        public let factory: ClientFactory
        /// The timeout given, in seconds.
        public let timeout: Double
        /// The connector returned.
        public let connector: MemoryConnector
    }

    /// A `listenUDP` call.
    public struct UDPPort {
        /// The port asked for.
        public let port: Int
        /// The protocol attached to the returned port.
        public let `protocol`: DatagramProtocol
        /// The interface asked for (`""` for all).
        public let interface: String
        /// The largest datagram to read.
        public let maxPacketSize: Int
        /// The port returned.
        public let datagramPort: MemoryDatagramPort
    }

    /// A `listenMulticast` call.
    public struct MulticastPortRecord {
        /// The port asked for.
        public let port: Int
        /// The protocol attached to the returned port.
        public let `protocol`: DatagramProtocol
        /// The interface asked for (`""` for all).
        public let interface: String
        /// The largest datagram to read.
        public let maxPacketSize: Int
        /// Whether several sockets may share the port (SO_REUSEPORT).
        public let listenMultiple: Bool
        /// The port returned.
        public let datagramPort: MemoryDatagramPort
    }

    /// A `listenUNIXDatagram` or `connectUNIXDatagram` call.
    public struct UNIXDatagramPort {
        /// The path bound (listen) or connected to (connect).
        public let path: String
        /// The protocol attached to the returned port.
        public let `protocol`: DatagramProtocol
        /// The largest datagram to read.
        public let maxPacketSize: Int
        /// The file mode asked for.
        public let mode: UInt32
        /// `true` for `connectUNIXDatagram`.
        public let isConnected: Bool
        /// The local path to bind, for `connectUNIXDatagram`.
        public let bindAddress: String?
        /// The port returned.
        public let datagramPort: MemoryDatagramPort
    }

    /// An `adoptStreamPort` call.
    public struct AdoptedPort {
        /// The listening descriptor handed over.
        public let fileDescriptor: Int32
        /// Its address family.
        public let addressFamily: AddressFamily
        /// The factory that would build the protocols.
        public let factory: Factory
        /// The port returned.
        public let listeningPort: MemoryListeningPort
    }

    /// An `adoptStreamConnection` call.
    public struct AdoptedStreamConnection {
        /// The connected descriptor handed over.
        public let fileDescriptor: Int32
        /// Its address family.
        public let addressFamily: AddressFamily
        /// The factory that would build the protocol.
        public let factory: Factory
    }

    /// An `adoptDatagramPort` call.
    public struct AdoptedDatagramPort {
        /// The bound descriptor handed over.
        public let fileDescriptor: Int32
        /// Its address family.
        public let addressFamily: AddressFamily
        /// The protocol attached to the returned port.
        public let `protocol`: DatagramProtocol
        /// The largest datagram to read.
        public let maxPacketSize: Int
        /// The port returned.
        public let datagramPort: MemoryDatagramPort
    }

    /// A `spawnProcess` call.
    public struct SpawnedProcess {
        /// The protocol attached to the returned transport.
        public let processProtocol: ProcessProtocol
        /// The program asked for.
        public let executable: String
        /// The arguments, including `argv[0]`.
        public let arguments: [String]
        /// The environment, or `nil` to inherit.
        public let environment: [String: String]?
        /// The working directory, or `nil` to inherit.
        public let path: String?
        /// The descriptor mapping, or `nil` for the standard three pipes.
        public let childFDs: [Int32: ChildFileDescriptor]?
        /// The transport returned.
        public let transport: MemoryProcessTransport
    }
}
