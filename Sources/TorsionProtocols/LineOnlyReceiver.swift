import TorsionCore

/// A protocol that receives only lines: Twisted's `LineOnlyReceiver`, the
/// lean variant of ``LineReceiver`` for protocols that never need raw mode
/// or pausing.
///
/// Every ``delimiter``-terminated line becomes a call to
/// ``lineReceived(_:)``. Before each line the transport is checked: once it
/// is ``Transport/disconnecting`` nothing more is delivered and the pending
/// bytes are dropped, so a line that makes the protocol close the
/// connection is the last one handled.
///
/// Limits: as for ``LineReceiver``, a line may be at most ``maxLength``
/// bytes and fewer than `maxLength + delimiter.count` bytes are ever kept
/// pending; beyond that ``lineLengthError`` is set and
/// ``lineLengthExceeded(_:)`` (default: `loseConnection()`) receives and
/// drops the pending bytes. Reactor thread only.
open class LineOnlyReceiver: Protocol {
    /// The line terminator, `\r\n` by default; must not be empty.
    public var delimiter: [UInt8] {
        get { splitter.delimiter }
        set { splitter.delimiter = newValue }
    }

    /// The longest line accepted, in bytes, delimiter excluded (16384 by
    /// default, as in Twisted).
    public var maxLength: Int {
        get { splitter.maxLength }
        set { splitter.maxLength = newValue }
    }

    /// Set when a line exceeded ``maxLength``, just before
    /// ``lineLengthExceeded(_:)``.
    public private(set) var lineLengthError: LineLengthExceededError?

    private var splitter = LineSplitter()

    /// Bytes received and not yet delivered: the partial last line.
    public var bufferedByteCount: Int { splitter.buffer.count }

    /// Splits `data` into lines and delivers them; override
    /// ``lineReceived(_:)`` instead.
    open override func dataReceived(_ data: [UInt8]) {
        guard splitter.startDraining(appending: data) else { return }
        defer { splitter.finishDraining() }
        while true {
            if transport?.disconnecting == true {
                // The lines after a close request are dropped, as in Twisted,
                // and so is anything a transport still delivers afterwards.
                _ = splitter.readAll()
                return
            }
            switch splitter.nextLine() {
            case .needMore:
                return
            case .tooLong(let pending):
                lineLengthError = LineLengthExceededError(maxLength: maxLength)
                lineLengthExceeded(pending)
                return
            case .line(let line):
                lineReceived(line)
            }
        }
    }

    /// A complete line arrived, delimiter removed. Override it; the default
    /// ignores the line.
    open func lineReceived(_ line: [UInt8]) {}

    /// A line longer than ``maxLength`` arrived; `line` holds the pending
    /// bytes, which are dropped. The default closes the connection.
    open func lineLengthExceeded(_ line: [UInt8]) {
        transport?.loseConnection()
    }

    /// Writes `line` and ``delimiter`` as one vectored write (no copy of
    /// `line`).
    public func sendLine(_ line: [UInt8]) {
        transport?.writeSequence([line, delimiter])
    }

    /// Writes the UTF-8 bytes of `line` followed by ``delimiter``.
    public func sendLine(_ line: String) {
        sendLine(Array(line.utf8))
    }
}
