/// A peer sent a line longer than the receiver's `maxLength`.
///
/// Recorded by ``LineReceiver`` and ``LineOnlyReceiver`` in their
/// `lineLengthError` property before `lineLengthExceeded(_:)` runs, whose
/// default closes the connection.
public struct LineLengthExceededError: Error, CustomStringConvertible, Equatable {
    /// The limit in force, in bytes, delimiter excluded.
    public let maxLength: Int

    /// Makes the error.
    public init(maxLength: Int) { self.maxLength = maxLength }

    /// Explains the limit.
    public var description: String {
        "LineLengthExceededError: a line is longer than the maximum of \(maxLength) bytes"
    }
}

/// The incoming bytes are not netstrings (`<length>:<payload>,` with a
/// decimal length without leading zeros). ``NetstringReceiver`` records it
/// in ``NetstringReceiver/parseError``, sets
/// ``NetstringReceiver/brokenPeer`` and closes the connection.
public enum NetstringParseError: Error, CustomStringConvertible, Equatable {
    /// A netstring must start with a decimal digit; `found` came instead.
    case missingLength(found: UInt8)
    /// The length starts with `0` followed by another digit, which the
    /// netstring specification forbids (only `0:` itself may start with 0).
    case leadingZero
    /// The length digits were followed by `found` instead of `:`.
    case missingColon(found: UInt8)
    /// The announced length is greater than `maxLength`; detected while the
    /// digits arrive, so a huge length is never parsed in full.
    case lengthTooLarge(maxLength: Int)
    /// The payload was followed by `found` instead of `,`.
    case missingComma(found: UInt8)

    /// Explains what was wrong, naming the offending byte.
    public var description: String {
        switch self {
        case .missingLength(let found):
            return "NetstringParseError: a netstring does not start with a length (found byte \(found))"
        case .leadingZero:
            return "NetstringParseError: the length of a netstring has a leading zero"
        case .missingColon(let found):
            return "NetstringParseError: the length of a netstring is not followed by ':' (found byte \(found))"
        case .lengthTooLarge(let maxLength):
            return "NetstringParseError: a netstring is longer than the maximum of \(maxLength) bytes"
        case .missingComma(let found):
            return "NetstringParseError: a netstring is not terminated by ',' (found byte \(found))"
        }
    }
}

/// A length prefix announced a string longer than the receiver's
/// `maxLength`. ``IntNStringReceiver`` records it in
/// ``IntNStringReceiver/lengthLimitError`` before calling
/// ``IntNStringReceiver/lengthLimitExceeded(_:)``.
public struct LengthLimitExceededError: Error, CustomStringConvertible, Equatable {
    /// The length the peer announced.
    public let length: Int
    /// The limit in force.
    public let maxLength: Int

    /// Makes the error.
    public init(length: Int, maxLength: Int) {
        self.length = length
        self.maxLength = maxLength
    }

    /// Explains the limit.
    public var description: String {
        "LengthLimitExceededError: a string of \(length) bytes was announced, the maximum is \(maxLength)"
    }
}

/// Thrown by ``IntNStringReceiver/sendString(_:)`` when the string's
/// length cannot be written in the prefix (Twisted's `StringTooLongError`).
/// Nothing is written in that case.
public struct StringTooLongError: Error, CustomStringConvertible, Equatable {
    /// The length of the refused string.
    public let length: Int
    /// The longest string the prefix can describe: 2^(8 × width) − 1.
    public let maximum: Int

    /// Makes the error.
    public init(length: Int, maximum: Int) {
        self.length = length
        self.maximum = maximum
    }

    /// Explains the limit.
    public var description: String {
        "StringTooLongError: cannot send \(length) bytes, the length prefix allows at most \(maximum)"
    }
}
