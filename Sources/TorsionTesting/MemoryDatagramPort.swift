import TorsionCore

/// A datagram socket in memory: what a ``MemoryReactor`` returns from
/// `listenUDP`, `listenMulticast`, the UNIX datagram calls and
/// `adoptDatagramPort`, and a stand-alone transport for testing a
/// ``TorsionCore/DatagramProtocol`` (Twisted's `FakeDatagramTransport`).
///
/// It records every datagram written, the connected peer and multicast
/// group membership; it never receives anything (call the protocol's
/// `datagramReceived(_:from:)` to simulate arrivals). The attached protocol
/// is started at creation (`makeConnection`, so `startProtocol` runs) and
/// stopped by ``stopListening()``; the port holds it until then.
/// Test thread only.
public final class MemoryDatagramPort: MulticastPort {
    /// One datagram handed to ``write(_:to:)``.
    public struct Datagram {
        /// The bytes sent.
        public let data: [UInt8]
        /// Where to: the address given, or the connected peer.
        public let address: any Address
    }

    /// A multicast group joined with ``joinGroup(_:interface:)``.
    public struct Group: Sendable, Hashable {
        /// The group address.
        public let address: String
        /// The interface address it was joined on.
        public let interface: String

        /// Makes a group record.
        public init(address: String, interface: String) {
            self.address = address
            self.interface = interface
        }
    }

    /// The bound address given at creation.
    public let host: any Address

    /// The largest datagram the socket would read.
    public let maxPacketSize: Int

    /// The attached protocol, until ``stopListening()``.
    public private(set) var `protocol`: DatagramProtocol?

    /// Every datagram written, in order.
    public private(set) var written: [Datagram] = []

    /// The peer set by ``connect(to:)``.
    public private(set) var connectedPeer: (any Address)?

    /// `true` until ``stopListening()``.
    public private(set) var listening = true

    /// The groups joined and not left, in joining order.
    public private(set) var joinedGroups: [Group] = []

    /// Recorded only; 1 by default, as on Linux.
    public var multicastTTL = 1

    /// Recorded only; `true` by default, as on Linux.
    public var multicastLoopback = true

    /// Makes a listening port bound to `host` and, when `protocol` is
    /// given, starts it on this port (its `startProtocol` runs).
    public init(
        host: any Address = IPv4Address(.udp, host: "0.0.0.0", port: 0), maxPacketSize: Int = 8192,
        protocol: DatagramProtocol? = nil
    ) {
        self.host = host
        self.maxPacketSize = maxPacketSize
        self.protocol = `protocol`
        `protocol`?.makeConnection(self)
    }

    /// Records `datagram` for `address`, or for the connected peer when
    /// `address` is `nil`. Recorded in every state, also after
    /// ``stopListening()``, so a test can check nothing was sent late.
    ///
    /// - Throws: ``TorsionCore/InvalidAddressError`` when `address` is `nil` and the
    ///   port is not connected.
    public func write(_ datagram: [UInt8], to address: (any Address)?) throws {
        guard let destination = address ?? connectedPeer else {
            throw InvalidAddressError(address: "nil", reason: "no destination given and the port is not connected")
        }
        written.append(Datagram(data: datagram, address: destination))
    }

    /// Records `address` as ``connectedPeer``.
    public func connect(to address: any Address) throws {
        connectedPeer = address
    }

    /// The first time: clears ``listening`` and stops the protocol (its
    /// `stopProtocol` runs when this was its last port), then releases it.
    /// The returned Deferred has fired.
    @discardableResult
    public func stopListening() -> Deferred<Void> {
        if listening {
            listening = false
            `protocol`?.doStop()
            `protocol` = nil
        }
        return succeed()
    }

    /// Records the membership; the Deferred has fired.
    @discardableResult
    public func joinGroup(_ address: String, interface: String) -> Deferred<Void> {
        let group = Group(address: address, interface: interface)
        if !joinedGroups.contains(group) { joinedGroups.append(group) }
        return succeed()
    }

    /// Forgets the membership (a group not joined is ignored); the Deferred
    /// has fired.
    @discardableResult
    public func leaveGroup(_ address: String, interface: String) -> Deferred<Void> {
        joinedGroups.removeAll { $0 == Group(address: address, interface: interface) }
        return succeed()
    }
}
