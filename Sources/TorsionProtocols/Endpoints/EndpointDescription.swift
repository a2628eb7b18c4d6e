/// One parsed endpoint description string, such as `tcp:8080:interface=127.0.0.1`:
/// the arguments of Twisted's endpoint grammar, in order.
///
/// The grammar: arguments are separated by `:`; an argument containing an
/// `=` is a keyword argument (`key=value`, split at the first `=`, so the
/// value may contain further `=`), any other is positional. A backslash
/// makes the next character literal, so `\:`, `\=` and `\\` stand for
/// `:`, `=` and `\`. The first positional argument names the endpoint type.
/// Parsing is linear in the length of the text and never fails except on a
/// backslash with nothing after it. Values may cross threads.
public struct EndpointDescription: Sendable, Hashable, CustomStringConvertible {
    /// One argument of a description.
    public enum Argument: Sendable, Hashable {
        /// A value given by position, for example the `8080` of `tcp:8080`.
        case positional(String)
        /// A value given by name, for example `interface=127.0.0.1`.
        case keyword(String, String)
    }

    /// The arguments in the order written; parsing always yields at least one.
    public var arguments: [Argument]

    /// Makes a description from arguments (see ``description`` for the text).
    public init(arguments: [Argument]) {
        self.arguments = arguments
    }

    /// Parses `text` with Twisted's grammar (`_tokenize` / `_parse` in
    /// `twisted.internet.endpoints`).
    ///
    /// - Throws: ``EndpointStringError/danglingEscape(_:)`` when `text` ends
    ///   with an unpaired backslash.
    public init(parsing text: String) throws(EndpointStringError) {
        // Unicode scalars, not Characters: a combining mark after `:` or `\`
        // must not hide the operator inside one grapheme.
        var arguments: [Argument] = []
        var current = String.UnicodeScalarView()
        var key: String?
        var escaped = false
        for character in text.unicodeScalars {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" {
                arguments.append(Self.argument(key: key, current: current))
                key = nil
                current = String.UnicodeScalarView()
            } else if character == "=" && key == nil {
                // Only the first `=` of an argument separates; later ones
                // belong to the value (Twisted: after `=`, only `:` is an operator).
                key = String(current)
                current = String.UnicodeScalarView()
            } else {
                current.append(character)
            }
        }
        if escaped { throw .danglingEscape(text) }
        arguments.append(Self.argument(key: key, current: current))
        self.arguments = arguments
    }

    private static func argument(key: String?, current: String.UnicodeScalarView) -> Argument {
        if let key { return .keyword(key, String(current)) }
        return .positional(String(current))
    }

    /// The positional arguments, in order.
    public var positionalArguments: [String] {
        arguments.compactMap {
            if case .positional(let value) = $0 { return value }
            return nil
        }
    }

    /// The keyword arguments, in order (a key may repeat; the endpoint
    /// parsers reject repeats).
    public var keywordArguments: [(key: String, value: String)] {
        arguments.compactMap {
            if case .keyword(let key, let value) = $0 { return (key, value) }
            return nil
        }
    }

    /// The text form, with `\`, `:` and `=` escaped so that parsing it gives
    /// back these arguments: `EndpointDescription(parsing: d.description) == d`
    /// whenever `arguments` is not empty.
    public var description: String {
        arguments.map { argument in
            switch argument {
            case .positional(let value): Self.escape(value)
            case .keyword(let key, let value): Self.escape(key) + "=" + Self.escape(value)
            }
        }.joined(separator: ":")
    }

    /// `text` with every `\`, `:` and `=` preceded by a backslash, so it
    /// reads back as one literal argument or key.
    public static func escape(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == ":" || scalar == "=" { escaped.append("\\") }
            escaped.append(scalar)
        }
        return String(escaped)
    }
}
