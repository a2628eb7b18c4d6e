import TorsionCore

/// A protocol that receives lines, and raw data when asked to: Twisted's
/// `LineReceiver`, the base of line-oriented protocols (SMTP, POP, IRC,
/// the header part of HTTP).
///
/// In line mode every ``delimiter``-terminated line becomes a call to
/// ``lineReceived(_:)`` (delimiter removed); in raw mode, entered with
/// ``setRawMode()``, every chunk becomes a call to ``rawDataReceived(_:)``
/// until ``setLineMode(extra:)``. Parsing stops after a line once the
/// transport is ``Transport/disconnecting``, so lines after a `QUIT` in the
/// same read are not handled; they stay buffered (see
/// ``clearLineBuffer()``), and reads arriving after that are dropped.
///
/// Limits: a line may be at most ``maxLength`` bytes. The pending partial
/// line never exceeds `maxLength + delimiter.count` bytes: at that size
/// ``lineLengthError`` is set, the buffer is handed to
/// ``lineLengthExceeded(_:)`` (default: `loseConnection()`) and emptied. A
/// line arriving one byte at a time is scanned once, not once per byte.
///
/// As a ``PushProducer`` it can be paused: while paused, received bytes are
/// buffered and nothing is delivered (the transport is paused too, so the
/// peer's data stops arriving); ``resumeProducing()`` delivers what was
/// buffered. The length limit is checked when lines are delivered.
///
/// Reentrancy: bytes passed to `dataReceived` from inside a callback (or
/// by ``setLineMode(extra:)``) are appended and parsed by the loop already
/// running, in order. Reactor thread only.
open class LineReceiver: PausableProtocol {
    /// The line terminator, `\r\n` by default. Set it before data arrives
    /// (typically in `init` or `connectionMade`); must not be empty.
    public var delimiter: [UInt8] {
        get { splitter.delimiter }
        set { splitter.delimiter = newValue }
    }

    /// The longest line accepted, in bytes, delimiter excluded (Twisted's
    /// `MAX_LENGTH`, 16384 by default).
    public var maxLength: Int {
        get { splitter.maxLength }
        set { splitter.maxLength = newValue }
    }

    /// `true` in line mode (the default), `false` in raw mode.
    public private(set) var lineMode = true

    /// Set when a line exceeded ``maxLength``, just before
    /// ``lineLengthExceeded(_:)``.
    public private(set) var lineLengthError: LineLengthExceededError?

    private var splitter = LineSplitter()

    /// Bytes received and not yet delivered (a partial line, or everything
    /// while paused). Useful to monitor memory per connection.
    public var bufferedByteCount: Int { splitter.buffer.count }

    /// Bytes examined by line searches since the connection started; stays
    /// proportional to the bytes received however they are chunked.
    var examinedByteCount: Int { splitter.examinedByteCount }

    /// Splits `data` into lines (or raw chunks) and delivers them; override
    /// the callbacks instead of this.
    open override func dataReceived(_ data: [UInt8]) {
        // A transport that keeps reading after loseConnection must not make
        // us buffer or deliver what follows the close request.
        if transport?.disconnecting == true { return }
        guard splitter.startDraining(appending: data) else { return }
        defer { splitter.finishDraining() }
        while !splitter.buffer.isEmpty && !paused {
            guard lineMode else {
                rawDataReceived(splitter.readAll())
                continue
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
                if transport?.disconnecting == true { return }
            }
        }
    }

    /// A complete line arrived, delimiter removed. Override it; the default
    /// ignores the line.
    open func lineReceived(_ line: [UInt8]) {}

    /// Bytes arrived in raw mode. Override it when using ``setRawMode()``;
    /// the default ignores them.
    open func rawDataReceived(_ data: [UInt8]) {}

    /// A line longer than ``maxLength`` arrived. `line` holds every byte
    /// that was pending: the start of the long line, possibly more. The
    /// default closes the connection with `loseConnection()`; an override
    /// that keeps the connection continues parsing with the next bytes.
    open func lineLengthExceeded(_ line: [UInt8]) {
        transport?.loseConnection()
    }

    /// Switches to raw mode: from now on, received bytes (including the
    /// rest of the current read) go to ``rawDataReceived(_:)``.
    public func setRawMode() {
        lineMode = false
    }

    /// Switches back to line mode. `extra` holds bytes the caller took in
    /// raw mode but did not use (say, the part after a body); they are
    /// parsed for lines before anything received later. Do not pass
    /// `extra` from inside ``lineReceived(_:)``: it would be parsed after
    /// the bytes already buffered.
    public func setLineMode(extra: [UInt8] = []) {
        lineMode = true
        if !extra.isEmpty {
            dataReceived(extra)
        }
    }

    /// Removes and returns every buffered byte, so that the parse loop
    /// delivers nothing more of it (for instance to hand the rest of a
    /// read to another parser).
    @discardableResult
    public func clearLineBuffer() -> [UInt8] {
        splitter.readAll()
    }

    /// Writes `line` followed by ``delimiter``, in one write.
    public func sendLine(_ line: [UInt8]) {
        transport?.write(line + delimiter)
    }

    /// Writes the UTF-8 bytes of `line` followed by ``delimiter``.
    public func sendLine(_ line: String) {
        sendLine(Array(line.utf8))
    }
}
