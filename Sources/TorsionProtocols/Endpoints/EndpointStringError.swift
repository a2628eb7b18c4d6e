/// Why an endpoint description string was refused by
/// ``EndpointDescription/init(parsing:)``, ``serverFromString(_:_:)`` or
/// ``clientFromString(_:_:)``. Each case names the endpoint type and the
/// argument at fault so the message can be shown to a user as is.
public enum EndpointStringError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text ends with a backslash that escapes nothing.
    case danglingEscape(String)
    /// The first argument is not an endpoint type this side knows;
    /// `known` lists the types that are.
    case unknownType(String, known: [String])
    /// The type exists in Twisted but is not implemented yet (`ssl`, `udp`).
    case unsupportedType(String)
    /// A required argument was not given.
    case missingArgument(type: String, name: String)
    /// A keyword the endpoint type does not take; `allowed` lists those it does.
    case unknownArgument(type: String, name: String, allowed: [String])
    /// The same argument was given twice (by position and name, or by name twice).
    case duplicateArgument(type: String, name: String)
    /// More positional arguments than the type takes; `allowed` names them in order.
    case tooManyArguments(type: String, count: Int, allowed: [String])
    /// An argument's value is malformed or out of range; `expected` says what is valid.
    case invalidValue(type: String, name: String, value: String, expected: String)

    /// One line naming the problem, the endpoint type and the argument.
    public var description: String {
        switch self {
        case .danglingEscape(let text):
            "EndpointStringError: \"\(text)\" ends with a backslash that escapes nothing"
        case .unknownType(let type, let known):
            "EndpointStringError: unknown endpoint type \"\(type)\"; known types: \(known.joined(separator: ", "))"
        case .unsupportedType(let type):
            "EndpointStringError: \"\(type)\" endpoints are not supported yet"
        case .missingArgument(let type, let name):
            "EndpointStringError: \(type) endpoint needs the argument \"\(name)\""
        case .unknownArgument(let type, let name, let allowed):
            "EndpointStringError: \(type) endpoint has no argument \"\(name)\"; it takes: "
                + allowed.joined(separator: ", ")
        case .duplicateArgument(let type, let name):
            "EndpointStringError: \(type) endpoint argument \"\(name)\" is given more than once"
        case .tooManyArguments(let type, let count, let allowed):
            "EndpointStringError: \(type) endpoint takes at most \(allowed.count) positional arguments "
                + "(\(allowed.joined(separator: ", "))), got \(count)"
        case .invalidValue(let type, let name, let value, let expected):
            "EndpointStringError: \(type) endpoint argument \(name)=\"\(value)\" is invalid: expected \(expected)"
        }
    }
}
