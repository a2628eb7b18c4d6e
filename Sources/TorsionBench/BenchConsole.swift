import Dispatch
import Glibc
import Synchronization

/// Progress on standard error: on a terminal one status line rewritten in
/// place (`\r` and erase-to-end-of-line); otherwise (a pipe, a CI log) one
/// plain line per status. Any thread.
public final class StandardErrorProgress: BenchProgress {
    private let isTerminal: Bool
    /// Whether a status line is on screen and must be ended before a message.
    private let statusShown = Mutex(false)

    /// Detects whether standard error is a terminal.
    public init() {
        isTerminal = isatty(2) == 1
    }

    /// Shows `line` as the current status.
    public func status(_ line: String) {
        statusShown.withLock { shown in
            if isTerminal {
                writeStandardError("\r\(line)\u{1B}[K")
                shown = true
            } else {
                writeStandardError(line + "\n")
            }
        }
    }

    /// Writes `line` on a line of its own, after the current status.
    public func message(_ line: String) {
        statusShown.withLock { shown in
            writeStandardError((shown ? "\r\u{1B}[K" : "") + line + "\n")
            shown = false
        }
    }

    /// Clears the status line on a terminal, before the table is printed.
    public func finish() {
        statusShown.withLock { shown in
            if shown { writeStandardError("\r\u{1B}[K") }
            shown = false
        }
    }
}

/// Writes `text` to file descriptor 2 with `write(2)` directly: usable
/// from the interruption handler, never buffered.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

/// SIGINT and SIGTERM during a run: stop the running server (SIGTERM to
/// its group, SIGKILL after three seconds, reaped), say what was done, and
/// exit 130 or 143 as a shell does for a process killed by the signal.
public enum BenchInterruption {
    /// Keeps the sources alive for the rest of the process.
    private static let sources = Mutex<[SignalSource]>([])
    /// Set when a handler started: stopping the server makes the running
    /// load fail, and that failure must not be reported (nor the process
    /// exit 1) before the handler has exited with the signal's status.
    private static let interrupted = Atomic<Bool>(false)

    /// Blocks the calling thread for good once an interruption started, so
    /// that its handler, which exits the process, has the last word. Returns
    /// at once otherwise. Any thread.
    public static func holdIfInterrupted() {
        guard interrupted.load(ordering: .acquiring) else { return }
        while true { pause() }
    }

    /// A dispatch source is a thread-safe object; it only needs holding.
    private struct SignalSource: @unchecked Sendable {
        let source: any DispatchSourceSignal
    }

    /// Installs the handlers for the rest of the process. The signals are
    /// ignored at the process level and delivered to a dispatch queue, so
    /// the thread running the load is never interrupted mid-system-call;
    /// servers get default handling back when they are spawned.
    public static func install(state: RunState, progress: StandardErrorProgress) {
        signal(SIGPIPE, SIG_IGN)
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                interrupted.store(true, ordering: .releasing)
                let stopped = ActiveServers.shared.stopAll()
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                progress.message(
                    "torsion bench: \(name): \(state.summary); "
                        + (stopped.isEmpty ? "no server was running" : "stopped \(stopped.joined(separator: ", "))")
                        + "; no results written")
                _exit(128 + number)
            }
            source.resume()
            sources.withLock { $0.append(SignalSource(source: source)) }
        }
    }
}
