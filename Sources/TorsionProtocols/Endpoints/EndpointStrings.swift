import TorsionCore

/// Makes a server endpoint from a description string (Twisted's
/// `serverFromString`). Types are case-insensitive:
///
/// - `tcp:PORT[:interface=ADDRESS][:backlog=N]` — IPv4 (positional order:
///   port, interface, backlog).
/// - `tcp6:PORT[:interface=ADDRESS][:backlog=N]` — IPv6, interface `::` by
///   default; escape the colons of a literal: `interface=\:\:1`
///   (positional order, as in Twisted: port, backlog, interface).
/// - `unix:PATH[:mode=OCTAL][:backlog=N]` — the path may also be given as
///   `address=`; `mode` defaults to `666`. A path written `@name` is
///   `\0name` in Linux's abstract namespace (write `./@name` for a file).
///
/// Nothing is bound until the endpoint's `listen`. Reactor thread only.
///
/// - Throws: ``EndpointStringError``: unknown or unsupported type,
///   missing, unknown, repeated or malformed arguments.
public func serverFromString(
    _ reactor: any ReactorTCP & ReactorUNIX, _ description: String
) throws(EndpointStringError) -> any StreamServerEndpoint {
    let parsed = try EndpointDescription(parsing: description)
    let type = try endpointType(of: parsed, known: ["tcp", "tcp6", "unix"])
    switch type {
    case "tcp":
        let arguments = try EndpointArguments(parsed, type: type, positional: ["port", "interface", "backlog"])
        return TCP4ServerEndpoint(
            reactor: reactor, port: try arguments.port("port", allowZero: true),
            backlog: try arguments.backlog(), interface: arguments.optional("interface") ?? "")
    case "tcp6":
        let arguments = try EndpointArguments(parsed, type: type, positional: ["port", "backlog", "interface"])
        return TCP6ServerEndpoint(
            reactor: reactor, port: try arguments.port("port", allowZero: true),
            backlog: try arguments.backlog(), interface: arguments.optional("interface") ?? "::")
    default:
        let arguments = try EndpointArguments(parsed, type: type, positional: ["address", "mode", "backlog"])
        return UNIXServerEndpoint(
            reactor: reactor, path: try arguments.unixPath("address"),
            backlog: try arguments.backlog(), mode: try arguments.mode())
    }
}

/// Makes a client endpoint from a description string (Twisted's
/// `clientFromString`). Types are case-insensitive:
///
/// - `tcp:host=HOST:port=PORT[:timeout=SECONDS][:bindAddress=HOST]`, or
///   positionally `tcp:HOST:PORT`; `timeout` defaults to 30 s and
///   `bindAddress` binds the local end to that host, any port.
/// - `unix:path=PATH[:timeout=SECONDS]`, or `unix:PATH`; `@name` is the
///   abstract name `\0name`, as for ``serverFromString(_:_:)``.
///
/// Nothing is connected until the endpoint's `connect`. Reactor thread only.
///
/// - Throws: ``EndpointStringError``: unknown or unsupported type,
///   missing, unknown, repeated or malformed arguments.
public func clientFromString(
    _ reactor: any ReactorTCP & ReactorUNIX, _ description: String
) throws(EndpointStringError) -> any StreamClientEndpoint {
    let parsed = try EndpointDescription(parsing: description)
    let type = try endpointType(of: parsed, known: ["tcp", "unix"])
    if type == "tcp" {
        // Twisted's _parseClientTCP: one positional argument is the port
        // when the host is given by name, the host otherwise.
        let hostByName = parsed.keywordArguments.contains { $0.key == "host" }
        let positional = hostByName && parsed.positionalArguments.count == 2 ? ["port"] : ["host", "port"]
        let arguments = try EndpointArguments(
            parsed, type: type, positional: positional, keywords: ["host", "port", "timeout", "bindAddress"])
        return TCPClientEndpoint(
            reactor: reactor, host: try arguments.required("host"), port: try arguments.port("port", allowZero: false),
            timeout: try arguments.timeout(),
            bindAddress: arguments.optional("bindAddress").map { BindAddress(host: $0) })
    }
    let arguments = try EndpointArguments(parsed, type: type, positional: ["path"], keywords: ["path", "timeout"])
    return UNIXClientEndpoint(reactor: reactor, path: try arguments.unixPath("path"), timeout: try arguments.timeout())
}

/// The lower-cased endpoint type of `parsed`, checked against `known`.
private func endpointType(of parsed: EndpointDescription, known: [String]) throws(EndpointStringError) -> String {
    guard let first = parsed.arguments.first, case .positional(let written) = first else {
        // A keyword in the type's place: report it as written.
        throw .unknownType(EndpointDescription(arguments: Array(parsed.arguments.prefix(1))).description, known: known)
    }
    let type = written.lowercased()
    if known.contains(type) { return type }
    // Twisted has these; they come with the TLS and UDP work.
    if ["ssl", "tls", "udp"].contains(type) { throw .unsupportedType(type) }
    throw .unknownType(written, known: known)
}

/// The arguments after the type, bound to names: positional ones in the
/// order the type declares, keyword ones by name.
private struct EndpointArguments {
    let type: String
    private var values: [String: String] = [:]

    /// Binds the arguments of `parsed` after its type. `keywords` defaults
    /// to the positional names.
    init(
        _ parsed: EndpointDescription, type: String, positional: [String], keywords: [String]? = nil
    ) throws(EndpointStringError) {
        self.type = type
        let allowed = keywords ?? positional
        let values = Array(parsed.positionalArguments.dropFirst())
        guard values.count <= positional.count else {
            throw .tooManyArguments(type: type, count: values.count, allowed: positional)
        }
        for (name, value) in zip(positional, values) { self.values[name] = value }
        for (key, value) in parsed.keywordArguments {
            guard allowed.contains(key) else { throw .unknownArgument(type: type, name: key, allowed: allowed) }
            guard self.values[key] == nil else { throw .duplicateArgument(type: type, name: key) }
            self.values[key] = value
        }
    }

    func optional(_ name: String) -> String? { values[name] }

    func required(_ name: String) throws(EndpointStringError) -> String {
        guard let value = values[name] else { throw .missingArgument(type: type, name: name) }
        return value
    }

    /// A decimal integer in `range`, or `defaultValue` when absent.
    func integer(
        _ name: String, in range: ClosedRange<Int>, default defaultValue: Int?, expected: String
    ) throws(EndpointStringError) -> Int {
        guard let text = values[name] else {
            guard let defaultValue else { throw .missingArgument(type: type, name: name) }
            return defaultValue
        }
        guard let value = Int(text, radix: 10), range.contains(value) else {
            throw .invalidValue(type: type, name: name, value: text, expected: expected)
        }
        return value
    }

    func port(_ name: String, allowZero: Bool) throws(EndpointStringError) -> Int {
        let range = allowZero ? 0...65535 : 1...65535
        return try integer(
            name, in: range, default: nil, expected: "a port number \(range.lowerBound)-\(range.upperBound)")
    }

    /// The listen queue length: Twisted's default 50; listen(2) takes an `int`.
    func backlog() throws(EndpointStringError) -> Int {
        try integer("backlog", in: 1...Int(Int32.max), default: 50, expected: "a positive integer")
    }

    /// Permission bits in octal, as chmod writes them; Twisted's default 666.
    func mode() throws(EndpointStringError) -> UInt32 {
        guard let text = values["mode"] else { return 0o666 }
        guard let value = UInt32(text, radix: 8), value <= 0o7777 else {
            throw .invalidValue(type: type, name: "mode", value: text, expected: "octal permission bits 0-7777")
        }
        return value
    }

    /// Seconds, finite and positive; Twisted's default 30.
    func timeout() throws(EndpointStringError) -> Double {
        guard let text = values["timeout"] else { return 30 }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw .invalidValue(type: type, name: "timeout", value: text, expected: "a positive number of seconds")
        }
        return value
    }

    /// A non-empty socket path; `@name` becomes the abstract name `\0name`.
    func unixPath(_ name: String) throws(EndpointStringError) -> String {
        let path = try required(name)
        guard !path.isEmpty else {
            throw .invalidValue(type: type, name: name, value: path, expected: "a non-empty socket path")
        }
        if path.hasPrefix("@") { return "\0" + path.dropFirst() }
        return path
    }
}
