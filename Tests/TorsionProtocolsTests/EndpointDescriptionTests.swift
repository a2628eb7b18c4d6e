import Testing
import TorsionCore
import TorsionProtocols

@Suite("Endpoint description grammar")
struct EndpointDescriptionTests {
    typealias Argument = EndpointDescription.Argument

    @Test("colons separate positional arguments and the first = makes a keyword")
    func positionalAndKeyword() throws {
        let parsed = try EndpointDescription(parsing: "tcp:8080:interface=127.0.0.1:backlog=5")
        #expect(
            parsed.arguments == [
                .positional("tcp"), .positional("8080"), .keyword("interface", "127.0.0.1"),
                .keyword("backlog", "5"),
            ])
        #expect(parsed.positionalArguments == ["tcp", "8080"])
        #expect(parsed.keywordArguments.map(\.key) == ["interface", "backlog"])
    }

    @Test("later = signs belong to the value")
    func equalsInValue() throws {
        let parsed = try EndpointDescription(parsing: "a=b=c")
        #expect(parsed.arguments == [.keyword("a", "b=c")])
    }

    @Test("backslash escapes colon, equals and backslash")
    func escapes() throws {
        let parsed = try EndpointDescription(parsing: #"tcp6:80:interface=\:\:1:x\=y:back\\slash"#)
        #expect(
            parsed.arguments == [
                .positional("tcp6"), .positional("80"), .keyword("interface", "::1"), .positional("x=y"),
                .positional(#"back\slash"#),
            ])
    }

    @Test("a backslash makes any following character literal")
    func escapeOrdinaryCharacter() throws {
        #expect(try EndpointDescription(parsing: #"\a\0"#).arguments == [.positional("a0")])
    }

    @Test("empty text and empty arguments are kept as empty strings")
    func emptyArguments() throws {
        #expect(try EndpointDescription(parsing: "").arguments == [.positional("")])
        #expect(
            try EndpointDescription(parsing: "tcp::").arguments == [
                .positional("tcp"), .positional(""), .positional(""),
            ])
        #expect(try EndpointDescription(parsing: "=").arguments == [.keyword("", "")])
    }

    @Test("a trailing backslash is a danglingEscape error")
    func danglingEscape() {
        #expect(throws: EndpointStringError.danglingEscape(#"tcp:80\"#)) {
            try EndpointDescription(parsing: #"tcp:80\"#)
        }
        #expect(throws: EndpointStringError.danglingEscape(#"\\\"#)) {
            try EndpointDescription(parsing: #"\\\"#)
        }
    }

    @Test("a combining mark after a colon does not hide the separator")
    func scalarsNotGraphemes() throws {
        let parsed = try EndpointDescription(parsing: "a:\u{301}b")
        #expect(parsed.arguments == [.positional("a"), .positional("\u{301}b")])
    }

    @Test("description escapes so that parsing gives the arguments back")
    func describeRoundTrip() throws {
        let original = EndpointDescription(arguments: [
            .positional("unix"), .positional(#"/tmp/a:b=c\d"#), .keyword("k=ey", "v:a=l\\"),
        ])
        #expect(original.description == #"unix:/tmp/a\:b\=c\\d:k\=ey=v\:a\=l\\"#)
        #expect(try EndpointDescription(parsing: original.description) == original)
    }

    @Test("random text never crashes the parser and parsed text round-trips through description")
    func fuzzRandomText() throws {
        var generator = SplitMix64(seed: 0xE4D_9017)
        let alphabet: [Character] = [":", "=", "\\", "a", "0", "@", "\0", " ", "é", "\u{301}", "🙂", "/"]
        for _ in 0..<3000 {
            let length = Int.random(in: 0...24, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let parsed: EndpointDescription
            do {
                parsed = try EndpointDescription(parsing: text)
            } catch {
                #expect(error == .danglingEscape(text))
                #expect(text.unicodeScalars.reversed().prefix { $0 == "\\" }.count % 2 == 1)
                continue
            }
            #expect(!parsed.arguments.isEmpty)
            #expect(try EndpointDescription(parsing: parsed.description) == parsed)
        }
    }

    @Test("random argument lists round-trip through description and parsing")
    func fuzzRandomArguments() throws {
        var generator = SplitMix64(seed: 0xA1_2B)
        let alphabet: [Character] = [":", "=", "\\", "x", "1", "\0", "é", "\u{301}"]
        func randomText() -> String {
            String(
                (0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<2000 {
            let arguments: [Argument] = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                Bool.random(using: &generator) ? .positional(randomText()) : .keyword(randomText(), randomText())
            }
            let original = EndpointDescription(arguments: arguments)
            #expect(try EndpointDescription(parsing: original.description) == original)
        }
    }
}
