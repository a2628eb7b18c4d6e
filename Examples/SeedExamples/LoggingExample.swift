import TorsionCore
import TorsionProtocols

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The logging server of seed 000 ("Factories"): `LoggingProtocol` writes
/// each received line to a file that `LogfileFactory` opens in
/// `startFactory` and closes in `stopFactory`, because a factory's lifetime
/// (from its first listening port to its last) is the right scope for a
/// shared resource, not `init`/`deinit`.
public enum LoggingExample {
    /// Where ``LogfileFactory`` writes: an open file, or any other sink a
    /// test provides. Reactor thread only.
    public protocol LogFile: AnyObject {
        /// Appends `bytes`.
        func write(_ bytes: [UInt8]) throws
        /// Releases the sink; nothing is written after it.
        func close()
    }

    /// The seed's `LoggingProtocol`: every received line, plus `\n`, goes
    /// to its ``LogfileFactory``'s file. Reactor thread only.
    public final class LoggingProtocol: LineReceiver {
        /// Makes the protocol; it must be built by a ``LogfileFactory``.
        public override init() {}

        /// Appends `line` and `\n` to the factory's file.
        public override func lineReceived(_ line: [UInt8]) {
            (factory as? LogfileFactory)?.log(line)
        }
    }

    /// The seed's `LogfileFactory`: opens the log when the first port
    /// starts using it and closes it when the last one stops. Reactor thread
    /// only.
    public final class LogfileFactory: Factory {
        private let open: () throws -> any LogFile

        /// The open log between `startFactory` and `stopFactory` (the
        /// seed's `fp`), otherwise `nil`.
        public private(set) var fp: (any LogFile)?

        /// The last error from opening or writing the log. Lines that
        /// arrive while the log is not open are dropped.
        public private(set) var lastError: Failure?

        /// Makes a factory whose log is opened by `open` in `startFactory`.
        public init(open: @escaping () throws -> any LogFile) {
            self.open = open
            super.init()
            makeProtocol = { LoggingProtocol() }
        }

        /// Makes a factory appending to the file at `fileName` (created if
        /// missing), as the seed's `open(self.file, 'a')`.
        public convenience init(fileName: String) {
            self.init(open: { try AppendingFile(path: fileName) })
        }

        /// Opens the log; a failure is kept in ``lastError``.
        public override func startFactory() {
            do {
                fp = try open()
            } catch {
                lastError = Failure(error)
            }
        }

        /// Closes the log.
        public override func stopFactory() {
            fp?.close()
            fp = nil
        }

        /// Appends `line` and `\n` to the open log.
        func log(_ line: [UInt8]) {
            guard let fp else { return }
            do {
                try fp.write(line + [0x0A])
            } catch {
                lastError = Failure(error)
            }
        }
    }

    /// A file opened for appending with `fopen(path, "a")`. Writes are
    /// flushed at once, so the file is complete whenever the reactor is
    /// idle. Reactor thread only.
    public final class AppendingFile: LogFile {
        private var file: UnsafeMutablePointer<FILE>?

        /// The path given.
        public let path: String

        /// Opens `path` for appending.
        ///
        /// - Throws: ``LogFileError`` naming the path and `errno` text.
        public init(path: String) throws(LogFileError) {
            self.path = path
            guard let file = fopen(path, "a") else {
                throw LogFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
            }
            self.file = file
        }

        /// Appends `bytes` and flushes them.
        ///
        /// - Throws: ``LogFileError`` when the file is closed or the write
        ///   fails (a full disk, for instance).
        public func write(_ bytes: [UInt8]) throws {
            guard let file else { throw LogFileError(path: path, operation: "write", reason: "file is closed") }
            let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == bytes.count, fflush(file) == 0 else {
                throw LogFileError(path: path, operation: "write", reason: String(cString: strerror(errno)))
            }
        }

        /// Closes the file; later calls do nothing.
        public func close() {
            if let file { fclose(file) }
            file = nil
        }

        deinit { close() }
    }

    /// Opening or writing a log file failed.
    public struct LogFileError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file's path.
        public let path: String
        /// `open` or `write`.
        public let operation: String
        /// What went wrong, from `strerror`.
        public let reason: String

        /// Makes the error for `operation` on `path`, failing with `reason`.
        public init(path: String, operation: String, reason: String) {
            self.path = path
            self.operation = operation
            self.reason = reason
        }

        /// Says what failed, on which file.
        public var description: String { "cannot \(operation) log file \(path): \(reason)" }
    }
}
