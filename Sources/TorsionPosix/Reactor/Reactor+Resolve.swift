import TorsionCore

extension Reactor {
    /// Resolves `name` to one textual address with ``AddressResolver``
    /// (getaddrinfo) on the thread pool. The first IPv4 answer is preferred
    /// when there is one, as Twisted's threaded resolver returns an IPv4
    /// address; otherwise the first IPv6 one. Fails with ``DNSLookupError``
    /// for a name with no address, a resolver error, or when `timeout`
    /// seconds pass first. Reactor thread only.
    public func resolve(_ name: String, timeout: Double) -> Deferred<String> {
        assertInIOThread()
        let lookup = deferToThread { () throws -> String in
            let addresses = try AddressResolver.resolve(host: name, port: 0)
            let hosts = addresses.compactMap { address -> (host: String, isIPv4: Bool)? in
                switch address {
                case .ipv4(let ipv4): (ipv4.host, true)
                case .ipv6(let ipv6): (ipv6.host, false)
                case .unix: nil
                }
            }
            guard let first = hosts.first(where: \.isIPv4) ?? hosts.first else {
                throw DNSLookupError(host: name, reason: "no IPv4 or IPv6 address")
            }
            return first.host
        }
        return lookup.addTimeout(timeout, clock: self).addErrback { failure throws -> String in
            if failure.error is DNSLookupError { throw failure }
            throw DNSLookupError(host: name, reason: failure.errorMessage)
        }
    }
}
