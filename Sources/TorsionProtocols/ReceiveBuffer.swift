/// The bytes a receiver has been handed but not yet parsed, with a read
/// index so that taking a message off the front costs O(message), not
/// O(buffer).
///
/// Consumed bytes stay in the array until ``compact()``, which receivers
/// call once at the end of each `dataReceived`: every byte is then moved at
/// most once in its life, because only bytes after the last consumed
/// message survive a compaction, and the next compaction only happens after
/// more of them were consumed. Compaction copies the survivors into a fresh
/// array, so the capacity of a large read is released rather than kept for
/// the lifetime of the connection.
struct ReceiveBuffer {
    private var bytes: [UInt8] = []
    private var readIndex = 0
    /// `true` while a parse loop is draining the buffer.
    private var draining = false

    /// Bytes received and not consumed yet.
    var count: Int { bytes.count - readIndex }

    /// Bytes held in storage, consumed ones included (for tests of
    /// ``compact()``).
    var storedByteCount: Int { bytes.count }

    /// `true` when everything received has been consumed.
    var isEmpty: Bool { readIndex == bytes.count }

    /// The byte `offset` places after the read index; `offset < count`.
    subscript(offset: Int) -> UInt8 { bytes[readIndex + offset] }

    /// Adds `data` at the end. When nothing is pending the array is adopted
    /// as it is (copy-on-write keeps this free), the common case of reads
    /// that hold whole messages.
    mutating func append(_ data: [UInt8]) {
        if isEmpty {
            bytes = data
            readIndex = 0
        } else {
            bytes.append(contentsOf: data)
        }
    }

    /// Appends `data` and claims the buffer for the caller's parse loop.
    /// Returns `false` when a loop further up the stack is already draining
    /// it (a callback fed more bytes): the bytes are appended, in order,
    /// for that loop to parse. After `true`, call ``finishDraining()``.
    mutating func startDraining(appending data: [UInt8]) -> Bool {
        append(data)
        guard !draining else { return false }
        draining = true
        return true
    }

    /// Ends the parse loop started by ``startDraining(appending:)`` and
    /// releases the consumed bytes.
    mutating func finishDraining() {
        draining = false
        compact()
    }

    /// Removes and returns the next `length` bytes; `length <= count`.
    mutating func read(_ length: Int) -> [UInt8] {
        let start = readIndex
        readIndex += length
        return Array(bytes[start..<readIndex])
    }

    /// Drops the next `length` bytes; `length <= count`.
    mutating func skip(_ length: Int) {
        readIndex += length
    }

    /// Removes and returns every pending byte.
    mutating func readAll() -> [UInt8] {
        let rest = readIndex == 0 ? bytes : Array(bytes[readIndex...])
        bytes = []
        readIndex = 0
        return rest
    }

    /// Offset (from the read index) of the first occurrence of `pattern`
    /// that starts at or after `start` and ends at or before `end`, or
    /// `nil`. `pattern` is not empty.
    func firstIndex(of pattern: [UInt8], from start: Int, upTo end: Int) -> Int? {
        let first = pattern[0]
        let lastStart = min(end, count) - pattern.count
        guard start <= lastStart else { return nil }
        var candidate = readIndex + start
        let lastCandidate = readIndex + lastStart
        while candidate <= lastCandidate {
            if bytes[candidate] == first {
                var matched = 1
                while matched < pattern.count && bytes[candidate + matched] == pattern[matched] {
                    matched += 1
                }
                if matched == pattern.count { return candidate - readIndex }
            }
            candidate += 1
        }
        return nil
    }

    /// Forgets the consumed prefix (see the type's documentation for why
    /// this is amortised O(1) per byte).
    mutating func compact() {
        guard readIndex > 0 else { return }
        bytes = isEmpty ? [] : Array(bytes[readIndex...])
        readIndex = 0
    }
}

/// Splits a ``ReceiveBuffer`` into delimited lines without rescanning:
/// the offset before which the pending bytes are known to hold no
/// delimiter is remembered, so a line arriving one byte at a time costs
/// O(length), and a search never looks further than the longest allowed
/// line.
struct LineSplitter {
    /// The pending bytes.
    private(set) var buffer = ReceiveBuffer()
    /// No delimiter starts before this offset of the pending bytes.
    private var scanOffset = 0
    /// The line terminator; never empty. CRLF by default, as in Twisted.
    var delimiter: [UInt8] = [13, 10] {
        didSet {
            precondition(!delimiter.isEmpty, "a line delimiter must not be empty")
            // What was learnt about the pending bytes was about the old one.
            scanOffset = 0
        }
    }
    /// The longest line accepted, delimiter excluded; Twisted's default.
    var maxLength = 16384
    /// Bytes examined by searches, for tests of the no-rescan property.
    private(set) var examinedByteCount = 0

    /// What ``nextLine()`` found.
    enum Next {
        /// A complete line, delimiter removed.
        case line([UInt8])
        /// No complete line yet; the partial line stays buffered.
        case needMore
        /// The line is longer than allowed: every pending byte, removed.
        case tooLong([UInt8])
    }

    /// See ``ReceiveBuffer/startDraining(appending:)``.
    mutating func startDraining(appending data: [UInt8]) -> Bool {
        buffer.startDraining(appending: data)
    }

    /// See ``ReceiveBuffer/finishDraining()``.
    mutating func finishDraining() { buffer.finishDraining() }

    /// Removes and returns every pending byte.
    mutating func readAll() -> [UInt8] {
        scanOffset = 0
        return buffer.readAll()
    }

    /// Takes the next line off the buffer.
    ///
    /// A line may be at most `maxLength` bytes. Once `maxLength +
    /// delimiter.count` bytes are pending without a delimiter among them
    /// the line cannot end in time and `.tooLong` is returned, so after
    /// this call fewer than that many bytes are pending.
    mutating func nextLine() -> Next {
        // Saturating: a limit of Int.max means "no limit", not a crash.
        let (sum, overflowed) = maxLength.addingReportingOverflow(delimiter.count)
        let window = overflowed ? Int.max : sum
        examinedByteCount += max(0, min(window, buffer.count) - scanOffset)
        if let found = buffer.firstIndex(of: delimiter, from: scanOffset, upTo: window) {
            let line = buffer.read(found)
            buffer.skip(delimiter.count)
            scanOffset = 0
            return .line(line)
        }
        if buffer.count >= window {
            return .tooLong(readAll())
        }
        // A delimiter may still start in the last `delimiter.count - 1` bytes.
        scanOffset = max(0, buffer.count - (delimiter.count - 1))
        return .needMore
    }
}
