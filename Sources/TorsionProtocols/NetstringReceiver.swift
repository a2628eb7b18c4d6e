import TorsionCore

/// A protocol that sends and receives netstrings: Twisted's
/// `NetstringReceiver` (format: <http://cr.yp.to/proto/netstrings.txt>).
///
/// A netstring is `<length>:<payload>,` where `<length>` is the payload's
/// size in decimal ASCII, without leading zeros (`0:,` is the empty
/// string). Every complete netstring becomes a call to
/// ``stringReceived(_:)``.
///
/// Bad input is not tolerated: on the first malformed byte, or a length
/// above ``maxLength``, ``parseError`` records why, ``brokenPeer`` becomes
/// `true`, the transport is told to `loseConnection()`, pending bytes are
/// dropped and later input is ignored. Strings before the bad byte have
/// been delivered. The length is checked digit by digit, so a peer cannot
/// make the receiver parse or buffer a huge number: at most
/// `maxLength + 1` bytes are ever pending.
///
/// As in Twisted, strings keep being delivered after the protocol called
/// `loseConnection()`. Reactor thread only.
open class NetstringReceiver: Protocol {
    /// The longest payload accepted, in bytes (Twisted's `MAX_LENGTH`,
    /// 99999 by default).
    public var maxLength = 99999

    /// `true` once malformed input was received; the connection is then
    /// being closed and further input is ignored.
    public private(set) var brokenPeer = false

    /// Why the peer was declared broken, if it was.
    public private(set) var parseError: NetstringParseError?

    private enum State {
        /// Reading the length: the digits seen so far and their value.
        case length(digits: Int, value: Int)
        /// Waiting for `length` payload bytes and the comma.
        case payload(length: Int)
        /// Malformed input was received: everything is ignored.
        case broken
    }

    private static let colon = UInt8(ascii: ":")
    private static let comma = UInt8(ascii: ",")

    private var state = State.length(digits: 0, value: 0)
    private var buffer = ReceiveBuffer()

    /// Bytes received and not yet delivered: at most the current payload
    /// and its comma.
    public var bufferedByteCount: Int { buffer.count }

    /// Parses `data` and delivers complete netstrings; override
    /// ``stringReceived(_:)`` instead.
    open override func dataReceived(_ data: [UInt8]) {
        if case .broken = state { return }
        guard buffer.startDraining(appending: data) else { return }
        defer { buffer.finishDraining() }
        do {
            while let string = try nextString() {
                stringReceived(string)
            }
        } catch {
            peerIsBroken(error)
        }
    }

    /// Consumes length digits and payload bytes; returns the next complete
    /// payload, or `nil` when more bytes are needed.
    private func nextString() throws(NetstringParseError) -> [UInt8]? {
        while !buffer.isEmpty {
            switch state {
            case .broken:
                return nil
            case .length(let digits, let value):
                state = try consumeLengthByte(buffer[0], digits: digits, value: value)
                buffer.skip(1)
            case .payload(let length):
                guard buffer.count > length else { return nil }
                let terminator = buffer[length]
                guard terminator == Self.comma else { throw .missingComma(found: terminator) }
                let payload = buffer.read(length)
                buffer.skip(1)
                state = .length(digits: 0, value: 0)
                return payload
            }
        }
        return nil
    }

    /// The state after one more byte of a length specification.
    private func consumeLengthByte(_ byte: UInt8, digits: Int, value: Int) throws(NetstringParseError) -> State {
        guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
            if digits == 0 { throw .missingLength(found: byte) }
            guard byte == Self.colon else { throw .missingColon(found: byte) }
            return .payload(length: value)
        }
        if digits > 0 && value == 0 { throw .leadingZero }
        // Checked per digit, so the number never grows past maxLength * 10 + 9
        // and a peer cannot make us parse an arbitrarily long one.
        let (shifted, overflowedShift) = value.multipliedReportingOverflow(by: 10)
        let (newValue, overflowedAdd) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
        if overflowedShift || overflowedAdd || newValue > maxLength {
            throw .lengthTooLarge(maxLength: maxLength)
        }
        return .length(digits: digits + 1, value: newValue)
    }

    private func peerIsBroken(_ error: NetstringParseError) {
        state = .broken
        parseError = error
        brokenPeer = true
        _ = buffer.readAll()
        transport?.loseConnection()
    }

    /// A complete netstring arrived; `string` is its payload. Override it;
    /// the default ignores the string.
    open func stringReceived(_ string: [UInt8]) {}

    /// Writes `string` framed as a netstring, in one write.
    public func sendString(_ string: [UInt8]) {
        transport?.write(Array("\(string.count):".utf8) + string + [Self.comma])
    }

    /// Writes the UTF-8 bytes of `string` framed as a netstring.
    public func sendString(_ string: String) {
        sendString(Array(string.utf8))
    }
}
