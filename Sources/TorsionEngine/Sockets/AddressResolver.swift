import Glibc
import TorsionCore

/// Turns host names into socket addresses with `getaddrinfo`. The call
/// blocks (it may ask DNS), so the reactor runs it on its thread pool;
/// any thread.
public enum AddressResolver {
    /// Which address families to ask for.
    public enum Family: Sendable {
        /// IPv4 and IPv6.
        case any
        /// IPv4 only.
        case ipv4
        /// IPv6 only.
        case ipv6

        fileprivate var rawValue: Int32 {
            switch self {
            case .any: AF_UNSPEC
            case .ipv4: AF_INET
            case .ipv6: AF_INET6
            }
        }
    }

    /// The stream-socket addresses of `host` at `port`, in the order
    /// `getaddrinfo` prefers (RFC 6724), without duplicates.
    ///
    /// - Parameter numericHostOnly: accept only a numeric literal
    ///   (`AI_NUMERICHOST`): no name service is consulted, so the call
    ///   cannot block.
    /// - Throws: ``TorsionCore/DNSLookupError`` with `gai_strerror`'s text
    ///   (or `strerror`'s for `EAI_SYSTEM`) when the name does not resolve,
    ///   or when `port` is outside 0–65535.
    public static func resolve(
        host: String, port: Int, family: Family = .any, numericHostOnly: Bool = false
    ) throws(DNSLookupError) -> [SocketAddress] {
        guard (0...65535).contains(port) else {
            throw DNSLookupError(host: host, reason: "port \(port) is outside 0-65535")
        }
        var hints = addrinfo()
        hints.ai_family = family.rawValue
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // No AI_ADDRCONFIG: it ignores loopback, so on a host with only
        // loopback configured even "localhost" would not resolve.
        hints.ai_flags = numericHostOnly ? AI_NUMERICHOST : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw DNSLookupError(host: host, reason: reason)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry?.pointee {
            entry = current.ai_next
            guard let raw = current.ai_addr, Int(current.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size else {
                continue
            }
            var storage = sockaddr_storage()
            // SAFETY: ai_addr points at ai_addrlen bytes, which fit in storage.
            withUnsafeMutableBytes(of: &storage) { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: Int(current.ai_addrlen)))
            }
            guard let address = try? SocketAddress(storage: storage, length: current.ai_addrlen) else { continue }
            if !addresses.contains(address) { addresses.append(address) }
        }
        guard !addresses.isEmpty else { throw DNSLookupError(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }
}
