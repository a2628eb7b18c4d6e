import Logging
import Synchronization

/// Where Torsion reports failures nobody handled.
///
/// When the last reference to a Deferred chain whose current result is a
/// failure goes away, the failure is logged at error level with the message
/// "Unhandled error in Deferred" and the failure in the `failure` metadata
/// key, as Twisted does when such a Deferred is garbage-collected.
///
/// The logger can be replaced (for example by a test that wants to see the
/// message). Any thread.
public enum DeferredDiagnostics {
    private static let storage = Mutex<Logger>(Logger(label: "torsion.deferred"))

    /// The logger unhandled failures are reported to.
    public static var logger: Logger {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    /// The message logged for an unhandled failure.
    public static let unhandledErrorMessage = "Unhandled error in Deferred"

    static func reportUnhandled(_ failure: Failure) {
        logger.error(
            "\(unhandledErrorMessage): \(failure)",
            metadata: ["failure": "\(failure)"])
    }
}
