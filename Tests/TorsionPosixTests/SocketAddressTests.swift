import Glibc
import Testing
import TorsionCore
import TorsionPosix

/// Writes `address` as the kernel would and reads it back.
func roundTrip(_ address: SocketAddress) throws -> SocketAddress {
    var storage = sockaddr_storage()
    var written: socklen_t = 0
    try address.withSockAddr { (pointer, length) throws(SystemError) in
        withUnsafeMutableBytes(of: &storage) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: Int(length)))
        }
        written = length
    }
    return try SocketAddress(storage: storage, length: written)
}

@Suite("SocketAddress")
struct SocketAddressTests {
    @Test("IPv4, IPv6, UNIX path and abstract addresses survive sockaddr and back")
    func roundTrips() throws {
        let addresses: [SocketAddress] = [
            .ipv4(IPv4Address(host: "127.0.0.1", port: 8080)),
            .ipv4(IPv4Address(host: "255.255.255.255", port: 65535)),
            .ipv6(IPv6Address(host: "::1", port: 443)),
            .ipv6(IPv6Address(host: "fe80::1", port: 1, flowInfo: 7, scopeID: 2)),
            .unix(UNIXAddress("/tmp/torsion.sock")),
            .unix(UNIXAddress("\0torsion-abstract")),
        ]
        for address in addresses {
            #expect(try roundTrip(address) == address)
        }
    }

    @Test("empty IP hosts stand for the wildcard address")
    func wildcard() throws {
        #expect(try roundTrip(.ipv4(IPv4Address(host: "", port: 1))) == .ipv4(IPv4Address(host: "0.0.0.0", port: 1)))
        #expect(try roundTrip(.ipv6(IPv6Address(host: "", port: 1))) == .ipv6(IPv6Address(host: "::", port: 1)))
    }

    @Test("wraps and unwraps TorsionCore addresses with their family")
    func coreAddresses() throws {
        let ipv4 = try SocketAddress(IPv4Address(host: "10.0.0.1", port: 1))
        #expect(ipv4.family == AF_INET && ipv4.address as? IPv4Address == IPv4Address(host: "10.0.0.1", port: 1))
        #expect(try SocketAddress(IPv6Address(host: "::1", port: 1)).family == AF_INET6)
        #expect(try SocketAddress(UNIXAddress("/s")).family == AF_UNIX)
    }

    @Test("names, bad literals and bad ports are named errors")
    func invalidIP() {
        #expect(throws: SocketOperationError.address(.invalidHost("localhost", family: "IPv4"))) {
            try roundTrip(.ipv4(IPv4Address(host: "localhost", port: 1)))
        }
        #expect(throws: SocketOperationError.address(.invalidHost("1.2.3.4", family: "IPv6"))) {
            try roundTrip(.ipv6(IPv6Address(host: "1.2.3.4", port: 1)))
        }
        #expect(throws: SocketOperationError.address(.invalidPort(65536))) {
            try roundTrip(.ipv4(IPv4Address(host: "127.0.0.1", port: 65536)))
        }
        #expect(throws: SocketOperationError.address(.invalidPort(-1))) {
            try roundTrip(.ipv6(IPv6Address(host: "::1", port: -1)))
        }
    }

    @Test("UNIX names are limited to sun_path: 107 bytes for a path, 108 for an abstract name")
    func unixLimits() throws {
        #expect(SocketAddress.unixPathCapacity == 108)
        let longest = "/" + String(repeating: "p", count: 106)
        #expect(try roundTrip(.unix(UNIXAddress(longest))) == .unix(UNIXAddress(longest)))
        let tooLong = longest + "p"
        #expect(throws: SocketOperationError.address(.unixPathTooLong(tooLong, bytes: 108, limit: 107))) {
            try roundTrip(.unix(UNIXAddress(tooLong)))
        }
        let abstract = "\0" + String(repeating: "a", count: 107)
        #expect(try roundTrip(.unix(UNIXAddress(abstract))) == .unix(UNIXAddress(abstract)))
        let abstractTooLong = abstract + "a"
        #expect(throws: SocketOperationError.address(.unixPathTooLong(abstractTooLong, bytes: 109, limit: 108))) {
            try roundTrip(.unix(UNIXAddress(abstractTooLong)))
        }
    }

    @Test("unnamed, empty and NUL-containing UNIX paths are refused")
    func unixInvalid() {
        #expect(throws: SocketOperationError.address(.unnamedUNIXAddress)) {
            try roundTrip(.unix(UNIXAddress(nil)))
        }
        #expect(throws: SocketOperationError.address(.unnamedUNIXAddress)) {
            try roundTrip(.unix(UNIXAddress("")))
        }
        #expect(throws: SocketOperationError.address(.nulInUNIXPath("/a\0b"))) {
            try roundTrip(.unix(UNIXAddress("/a\0b")))
        }
    }

    @Test("kernel addresses of another family or too short are refused")
    func badKernelAddresses() throws {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_PACKET)
        #expect(throws: SocketAddressError.unsupportedFamily(AF_PACKET)) {
            try SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_storage>.size))
        }
        storage.ss_family = sa_family_t(AF_INET)
        #expect(throws: SocketAddressError.truncated(family: AF_INET, length: 4)) {
            try SocketAddress(storage: storage, length: 4)
        }
        storage.ss_family = sa_family_t(AF_UNIX)
        #expect(try SocketAddress(storage: storage, length: 2) == .unix(UNIXAddress(nil)))
    }
}
