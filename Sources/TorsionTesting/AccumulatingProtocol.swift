import TorsionCore

/// A protocol that records the events it receives: Twisted's
/// `AccumulatingProtocol`, the usual peer in tests of other protocols.
///
/// Subclass it to add behaviour; call `super` in overrides so the records
/// stay complete. Test thread only.
open class AccumulatingProtocol: Protocol {
    /// `true` once ``connectionMade()`` ran.
    public private(set) var made = false

    /// Every byte received, in order.
    public private(set) var data: [UInt8] = []

    /// ``data`` decoded as UTF-8 (invalid sequences become U+FFFD).
    public var dataString: String { String(decoding: data, as: UTF8.self) }

    /// The reasons passed to ``connectionLost(reason:)``, in order; a
    /// correct transport calls it once, so tests assert `count == 1`.
    public private(set) var lostReasons: [Failure] = []

    /// `true` once ``connectionLost(reason:)`` ran.
    public var closed: Bool { !lostReasons.isEmpty }

    /// The reason of the first ``connectionLost(reason:)``, or `nil`.
    public var closedReason: Failure? { lostReasons.first }

    /// Makes a protocol that has recorded nothing.
    public override init() {}

    /// Records that the connection was made.
    open override func connectionMade() {
        made = true
    }

    /// Appends `data` to ``data``.
    open override func dataReceived(_ data: [UInt8]) {
        self.data.append(contentsOf: data)
    }

    /// Records `reason` and marks the protocol disconnected.
    open override func connectionLost(reason: Failure) {
        lostReasons.append(reason)
        super.connectionLost(reason: reason)
    }
}
