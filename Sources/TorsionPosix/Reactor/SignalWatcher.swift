import CTorsionPosix
import Glibc
import Synchronization
import TorsionCore

/// The eventfd written by the SIGINT/SIGTERM handler; -1 while no
/// reactor handles signals. A signal handler cannot capture context, so
/// the target lives here; an atomic load and `write` are async-signal-safe.
private let signalEventFD = Atomic<Int32>(-1)

/// Two reactors asked to handle SIGINT/SIGTERM at the same time; a signal
/// can stop only one loop, so the second `run()` refuses.
public struct SignalHandlersInUse: Error, CustomStringConvertible, Equatable, Sendable {
    /// Explains the conflict.
    public var description: String {
        "SignalHandlersInUse: another reactor already handles SIGINT and SIGTERM in this process"
    }
}

/// Turns SIGINT and SIGTERM into a call on the loop's thread while
/// installed (the self-pipe trick, with an eventfd as the pipe): the
/// handler only writes the eventfd; the engine, watching it, calls
/// `onSignal` (the reactor's `stop()`) from its wait.
/// Unlike signalfd this needs no signal mask in every thread, which a
/// library cannot impose on threads it did not create. Reactor thread only.
final class SignalWatcher {
    private let eventFD: Waker
    private let engine: any IOEngine
    private let onSignal: () -> Void
    private var previous: [Int32: sigaction] = [:]
    private var installed = true

    /// The signals turned into `stop()`.
    static let signals: [Int32] = [SIGINT, SIGTERM]

    /// Installs the handlers; `engine` watches the eventfd and calls
    /// `onSignal` when a signal arrived.
    ///
    /// - Throws: ``SignalHandlersInUse`` when another reactor has them,
    ///   ``SystemError`` when the kernel refuses.
    init(engine: any IOEngine, onSignal: @escaping () -> Void) throws {
        self.engine = engine
        self.onSignal = onSignal
        eventFD = try Waker()
        let claimed = signalEventFD.compareExchange(
            expected: -1, desired: eventFD.fileDescriptor, ordering: .acquiringAndReleasing)
        guard claimed.exchanged else {
            eventFD.close()
            throw SignalHandlersInUse()
        }
        do {
            try engine.watch(eventFD.fileDescriptor, interest: .read) { [unowned self] _ in signalled() }
            for signal in Self.signals {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = { _ in
                    let fd = signalEventFD.load(ordering: .relaxed)
                    guard fd >= 0 else { return }
                    var one: UInt64 = 1
                    // SAFETY: writes the 8 bytes of a local UInt64 to the eventfd.
                    _ = withUnsafeBytes(of: &one) { write(fd, $0.baseAddress, 8) }
                }
                action.sa_flags = SA_RESTART
                var old = sigaction()
                try retryingInterrupts("sigaction") { sigaction(signal, &action, &old) }
                previous[signal] = old
            }
        } catch {
            uninstall()
            throw error
        }
    }

    /// A signal arrived: tell the reactor.
    private func signalled() {
        eventFD.drain()
        onSignal()
    }

    /// Restores the previous handlers and releases the eventfd. Idempotent.
    func uninstall() {
        guard installed else { return }
        installed = false
        for (signal, old) in previous {
            var old = old
            sigaction(signal, &old, nil)
        }
        previous.removeAll()
        signalEventFD.store(-1, ordering: .releasing)
        engine.unwatch(eventFD.fileDescriptor)
        eventFD.close()
    }
}
