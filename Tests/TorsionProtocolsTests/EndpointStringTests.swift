import Testing
import TorsionCore
import TorsionProtocols
import TorsionTesting

@Suite("serverFromString and clientFromString")
struct EndpointStringTests {
    let reactor = MemoryReactor()

    func server(_ text: String) throws -> any StreamServerEndpoint { try serverFromString(reactor, text) }
    func client(_ text: String) throws -> any StreamClientEndpoint { try clientFromString(reactor, text) }

    // MARK: Servers

    @Test("tcp:PORT is an IPv4 server on all interfaces with backlog 50")
    func tcpServerDefaults() throws {
        let endpoint = try #require(try server("tcp:8080") as? TCP4ServerEndpoint)
        #expect(endpoint.port == 8080 && endpoint.backlog == 50 && endpoint.interface == "")
    }

    @Test("tcp server arguments by name, by position and with an upper-case type")
    func tcpServerForms() throws {
        for text in [
            "tcp:0:interface=127.0.0.1:backlog=7", "tcp:0:127.0.0.1:7", "TCP:port=0:backlog=7:interface=127.0.0.1",
        ] {
            let endpoint = try #require(try server(text) as? TCP4ServerEndpoint, "\(text)")
            #expect(endpoint.port == 0 && endpoint.backlog == 7 && endpoint.interface == "127.0.0.1", "\(text)")
        }
    }

    @Test("tcp6 defaults to :: and takes an escaped IPv6 interface")
    func tcp6Server() throws {
        let defaults = try #require(try server("tcp6:443") as? TCP6ServerEndpoint)
        #expect(defaults.port == 443 && defaults.interface == "::" && defaults.backlog == 50)
        let named = try #require(try server(#"tcp6:443:interface=\:\:1:backlog=3"#) as? TCP6ServerEndpoint)
        #expect(named.interface == "::1" && named.backlog == 3)
        // Twisted's positional order for tcp6: port, backlog, interface.
        let positional = try #require(try server(#"tcp6:443:3:\:\:1"#) as? TCP6ServerEndpoint)
        #expect(positional.interface == "::1" && positional.backlog == 3)
    }

    @Test("unix server: path, octal mode, backlog, address= and @abstract")
    func unixServer() throws {
        let endpoint = try #require(try server("unix:/tmp/s.sock:mode=600:backlog=4") as? UNIXServerEndpoint)
        #expect(endpoint.path == "/tmp/s.sock" && endpoint.mode == 0o600 && endpoint.backlog == 4)
        let defaults = try #require(try server("unix:address=/run/x") as? UNIXServerEndpoint)
        #expect(defaults.path == "/run/x" && defaults.mode == 0o666 && defaults.backlog == 50)
        let abstract = try #require(try server("unix:@torsion") as? UNIXServerEndpoint)
        #expect(abstract.path == "\0torsion")
        let escaped = try #require(try server(#"unix:/tmp/a\:b"#) as? UNIXServerEndpoint)
        #expect(escaped.path == "/tmp/a:b")
    }

    // MARK: Clients

    @Test("tcp client by name, by position, and a positional port after host=")
    func tcpClientForms() throws {
        let named = try #require(
            try client("tcp:host=example.com:port=80:timeout=2.5:bindAddress=10.0.0.2") as? TCPClientEndpoint)
        #expect(named.host == "example.com" && named.port == 80 && named.timeout == 2.5)
        #expect(named.bindAddress == BindAddress(host: "10.0.0.2", port: 0))
        let positional = try #require(try client("tcp:example.com:80") as? TCPClientEndpoint)
        #expect(positional.host == "example.com" && positional.port == 80 && positional.timeout == 30)
        #expect(positional.bindAddress == nil)
        let mixed = try #require(try client("tcp:80:host=example.com") as? TCPClientEndpoint)
        #expect(mixed.host == "example.com" && mixed.port == 80)
        let ipv6 = try #require(try client(#"tcp:host=\:\:1:port=22"#) as? TCPClientEndpoint)
        #expect(ipv6.host == "::1")
    }

    @Test("unix client by name and by position, with timeout and @abstract")
    func unixClientForms() throws {
        let named = try #require(try client("unix:path=/tmp/s:timeout=4") as? UNIXClientEndpoint)
        #expect(named.path == "/tmp/s" && named.timeout == 4)
        let positional = try #require(try client("UNIX:/tmp/s") as? UNIXClientEndpoint)
        #expect(positional.path == "/tmp/s" && positional.timeout == 30)
        #expect(try #require(try client("unix:@a") as? UNIXClientEndpoint).path == "\0a")
    }

    // MARK: Errors

    @Test("an unknown type names itself and the known types")
    func unknownType() {
        #expect(throws: EndpointStringError.unknownType("quic", known: ["tcp", "tcp6", "unix"])) {
            try server("quic:80")
        }
        #expect(throws: EndpointStringError.unknownType("tcp6", known: ["tcp", "unix"])) { try client("tcp6:h:80") }
        #expect(throws: EndpointStringError.unknownType("", known: ["tcp", "unix"])) { try client("") }
        #expect(throws: EndpointStringError.unknownType("port=80", known: ["tcp", "tcp6", "unix"])) {
            try server("port=80")
        }
        let message = EndpointStringError.unknownType("quic", known: ["tcp", "unix"]).description
        #expect(message == #"EndpointStringError: unknown endpoint type "quic"; known types: tcp, unix"#)
    }

    @Test("ssl, tls and udp are reported as not supported yet")
    func unsupportedTypes() {
        #expect(throws: EndpointStringError.unsupportedType("ssl")) { try server("ssl:443") }
        #expect(throws: EndpointStringError.unsupportedType("udp")) { try client("UDP:h:53") }
        #expect(throws: EndpointStringError.unsupportedType("tls")) { try client("tls:h:443") }
        #expect(EndpointStringError.unsupportedType("ssl").description.contains("not supported yet"))
    }

    @Test("ports must be decimal and in range; clients may not use port 0")
    func badPorts() {
        for text in ["tcp:65536", "tcp:-1", "tcp:eighty", "tcp:8o", "tcp: 80", "tcp:"] {
            #expect(throws: EndpointStringError.self, "\(text)") { try server(text) }
        }
        #expect(
            throws: EndpointStringError.invalidValue(
                type: "tcp", name: "port", value: "65536", expected: "a port number 0-65535")
        ) { try server("tcp:65536") }
        #expect(
            throws: EndpointStringError.invalidValue(
                type: "tcp", name: "port", value: "0", expected: "a port number 1-65535")
        ) { try client("tcp:h:0") }
    }

    @Test("backlog, mode and timeout are checked")
    func badNumbers() {
        #expect(
            throws: EndpointStringError.invalidValue(
                type: "tcp", name: "backlog", value: "0", expected: "a positive integer")
        ) { try server("tcp:80:backlog=0") }
        #expect(throws: EndpointStringError.self) { try server("tcp:80:backlog=99999999999") }
        #expect(
            throws: EndpointStringError.invalidValue(
                type: "unix", name: "mode", value: "9", expected: "octal permission bits 0-7777")
        ) { try server("unix:/s:mode=9") }
        #expect(throws: EndpointStringError.self) { try server("unix:/s:mode=17777") }
        for timeout in ["0", "-1", "nan", "inf", "soon"] {
            #expect(
                throws: EndpointStringError.invalidValue(
                    type: "tcp", name: "timeout", value: timeout, expected: "a positive number of seconds")
            ) { try client("tcp:h:80:timeout=\(timeout)") }
        }
    }

    @Test("missing, unknown, repeated and surplus arguments are named errors")
    func argumentErrors() {
        #expect(throws: EndpointStringError.missingArgument(type: "tcp", name: "port")) { try server("tcp") }
        #expect(throws: EndpointStringError.missingArgument(type: "tcp", name: "port")) { try client("tcp:host=h") }
        #expect(throws: EndpointStringError.missingArgument(type: "tcp", name: "host")) { try client("tcp:port=80") }
        #expect(throws: EndpointStringError.missingArgument(type: "unix", name: "path")) { try client("unix") }
        #expect(
            throws: EndpointStringError.invalidValue(
                type: "unix", name: "address", value: "", expected: "a non-empty socket path")
        ) { try server("unix:") }
        #expect(
            throws: EndpointStringError.unknownArgument(
                type: "tcp", name: "bogus", allowed: ["port", "interface", "backlog"])
        ) { try server("tcp:80:bogus=1") }
        #expect(throws: EndpointStringError.duplicateArgument(type: "tcp", name: "port")) {
            try server("tcp:80:port=81")
        }
        #expect(throws: EndpointStringError.duplicateArgument(type: "unix", name: "timeout")) {
            try client("unix:/s:timeout=1:timeout=2")
        }
        #expect(
            throws: EndpointStringError.tooManyArguments(
                type: "tcp", count: 4, allowed: ["port", "interface", "backlog"])
        ) { try server("tcp:1:2:3:4") }
        #expect(throws: EndpointStringError.tooManyArguments(type: "tcp", count: 3, allowed: ["host", "port"])) {
            try client("tcp:h:80:90")
        }
    }

    @Test("random descriptions never crash either parser")
    func fuzz() {
        var generator = SplitMix64(seed: 0x70_5E)
        let pieces = [
            "tcp", "tcp6", "unix", "ssl", ":", "=", "\\", "80", "0", "65536", "-1", "host", "port", "interface",
            "backlog", "mode", "timeout", "path", "address", "bindAddress", "@", "/tmp/s", "::1", "777", "x",
        ]
        var accepted = 0
        for _ in 0..<4000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            if (try? server(text)) != nil { accepted += 1 }
            if (try? client(text)) != nil { accepted += 1 }
        }
        // The corpus is built so that some descriptions are valid.
        #expect(accepted > 0)
    }
}
