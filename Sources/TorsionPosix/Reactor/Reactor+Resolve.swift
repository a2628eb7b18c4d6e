import Glibc
import TorsionCore

extension Reactor {
    /// Resolves `name` to one textual address with getaddrinfo on the
    /// thread pool (IPv4 preferred when both exist, as Twisted's threaded
    /// resolver returns the first IPv4 answer). Fails with
    /// ``DNSLookupError`` for a name with no address, a resolver error, or
    /// when `timeout` seconds pass first. Reactor thread only.
    public func resolve(_ name: String, timeout: Double) -> Deferred<String> {
        assertInIOThread()
        let lookup = deferToThread { () throws -> String in try Self.lookUp(name) }
        return lookup.addTimeout(timeout, clock: self).addErrback { failure throws -> String in
            if failure.error is DNSLookupError { throw failure }
            throw DNSLookupError(host: name, reason: failure.errorMessage)
        }
    }

    /// Blocking getaddrinfo; pool threads only.
    private static func lookUp(_ name: String) throws -> String {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let list else {
            throw DNSLookupError(host: name, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let address = Self.text(of: current.pointee) { addresses.append(address) }
            entry = current.pointee.ai_next
        }
        guard let first = addresses.first(where: { !$0.contains(":") }) ?? addresses.first else {
            throw DNSLookupError(host: name, reason: "no address")
        }
        return first
    }

    /// The numeric text of an IPv4 or IPv6 answer.
    private static func text(of info: addrinfo) -> String? {
        guard let address = info.ai_addr else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        // SAFETY: ai_addr points to ai_addrlen bytes; the buffer holds NI_MAXHOST characters.
        let status = getnameinfo(
            address, info.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
        guard status == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
