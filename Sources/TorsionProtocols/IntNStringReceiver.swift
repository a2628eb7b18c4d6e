import TorsionCore

/// A protocol for strings framed by a big-endian length prefix of a fixed
/// width: Twisted's `IntNStringReceiver`, shared by ``Int8StringReceiver``,
/// ``Int16StringReceiver`` and ``Int32StringReceiver`` (subclass those).
///
/// Every complete string becomes a call to ``stringReceived(_:)``.
///
/// Limits: a prefix announcing more than ``maxLength`` bytes sets
/// ``lengthLimitError`` and calls ``lengthLimitExceeded(_:)`` (default:
/// `loseConnection()`) as soon as the prefix is complete, before any of the
/// string is awaited; strings before it have been delivered. Since the
/// framing of the stream is then lost, the pending bytes are dropped and
/// later input is ignored (Twisted keeps them and fails again on the next
/// read). Nothing is ever reserved from an announced length, so at most
/// `prefixWidth + maxLength` bytes are pending.
///
/// As a ``PushProducer`` it can be paused: received bytes are buffered and
/// not delivered until ``resumeProducing()``. As in Twisted, strings keep
/// being delivered after `loseConnection()`. Reactor thread only.
open class IntNStringReceiver: PausableProtocol {
    /// Bytes in the length prefix: 1, 2 or 4.
    public let prefixWidth: Int

    /// The longest string accepted, in bytes (Twisted's `MAX_LENGTH`, 99999
    /// by default).
    public var maxLength = 99999

    /// Set when a prefix exceeded ``maxLength``, just before
    /// ``lengthLimitExceeded(_:)``; from then on input is ignored.
    public private(set) var lengthLimitError: LengthLimitExceededError?

    private var buffer = ReceiveBuffer()

    /// Makes a receiver whose prefix is `prefixWidth` bytes (1, 2 or 4).
    public init(prefixWidth: Int) {
        precondition((1...4).contains(prefixWidth), "IntNStringReceiver: the prefix is 1, 2 or 4 bytes wide")
        self.prefixWidth = prefixWidth
        super.init()
    }

    /// The longest string the prefix can describe, 2^(8 × width) − 1.
    public var maximumStringLength: Int { (1 << (8 * prefixWidth)) - 1 }

    /// Bytes received and not yet delivered.
    public var bufferedByteCount: Int { buffer.count }

    /// Parses `data` and delivers complete strings; override
    /// ``stringReceived(_:)`` instead.
    open override func dataReceived(_ data: [UInt8]) {
        if lengthLimitError != nil { return }
        guard buffer.startDraining(appending: data) else { return }
        defer { buffer.finishDraining() }
        while !paused && buffer.count >= prefixWidth {
            let length = announcedLength()
            guard length <= maxLength else {
                _ = buffer.readAll()
                lengthLimitError = LengthLimitExceededError(length: length, maxLength: maxLength)
                lengthLimitExceeded(length)
                return
            }
            guard buffer.count >= prefixWidth + length else { return }
            buffer.skip(prefixWidth)
            stringReceived(buffer.read(length))
            if lengthLimitError != nil { return }
        }
    }

    /// The big-endian number in the first ``prefixWidth`` pending bytes.
    private func announcedLength() -> Int {
        var length = 0
        for offset in 0..<prefixWidth {
            length = length << 8 | Int(buffer[offset])
        }
        return length
    }

    /// A complete string arrived, prefix removed. Override it; the default
    /// ignores the string.
    open func stringReceived(_ string: [UInt8]) {}

    /// A prefix announced `length` bytes, more than ``maxLength``. The
    /// default closes the connection with `loseConnection()`.
    open func lengthLimitExceeded(_ length: Int) {
        transport?.loseConnection()
    }

    /// Writes `string` after its big-endian length prefix, in one write.
    ///
    /// - Throws: ``StringTooLongError`` when `string` is longer than
    ///   ``maximumStringLength``; nothing is written then.
    public func sendString(_ string: [UInt8]) throws(StringTooLongError) {
        guard string.count <= maximumStringLength else {
            throw StringTooLongError(length: string.count, maximum: maximumStringLength)
        }
        var framed = [UInt8]()
        framed.reserveCapacity(prefixWidth + string.count)
        for shift in stride(from: 8 * (prefixWidth - 1), through: 0, by: -8) {
            framed.append(UInt8(truncatingIfNeeded: string.count >> shift))
        }
        framed.append(contentsOf: string)
        transport?.write(framed)
    }

    /// Writes the UTF-8 bytes of `string` after their length prefix.
    ///
    /// - Throws: ``StringTooLongError`` as ``sendString(_:)-([UInt8])`` does.
    public func sendString(_ string: String) throws(StringTooLongError) {
        try sendString(Array(string.utf8))
    }
}

/// Strings prefixed by one length byte (at most 255 bytes): Twisted's
/// `Int8StringReceiver`. Subclass it and override `stringReceived(_:)`.
/// Reactor thread only.
open class Int8StringReceiver: IntNStringReceiver {
    /// Makes a receiver with a 1-byte prefix.
    public init() { super.init(prefixWidth: 1) }
}

/// Strings prefixed by a 2-byte big-endian length: Twisted's
/// `Int16StringReceiver`. Subclass it and override `stringReceived(_:)`.
/// Reactor thread only.
open class Int16StringReceiver: IntNStringReceiver {
    /// Makes a receiver with a 2-byte prefix.
    public init() { super.init(prefixWidth: 2) }
}

/// Strings prefixed by a 4-byte big-endian length (network byte order):
/// Twisted's `Int32StringReceiver`. Subclass it and override
/// `stringReceived(_:)`. Reactor thread only.
open class Int32StringReceiver: IntNStringReceiver {
    /// Makes a receiver with a 4-byte prefix.
    public init() { super.init(prefixWidth: 4) }
}
