import CLibURing
import Glibc
import TorsionEngine

/// How a ring was set up: the best task-running mode the kernel accepted.
///
/// Completions of socket operations are finished by "task work" run in the
/// submitting thread. By default the kernel interrupts that thread (an
/// IPI and a forced return from whatever it runs) to run it at once;
/// a reactor only looks at completions when it waits anyway, so the
/// interruptions are pure cost.
package enum URingSetup: Equatable, Sendable {
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux
    /// 6.1): task work runs only when the loop waits, in its own thread.
    /// The ring is created disabled (`IORING_SETUP_R_DISABLED`) and
    /// enabled by its first submission, so the single issuer is the loop's
    /// thread even when the reactor was created on another one.
    case singleIssuer
    /// `IORING_SETUP_COOP_TASKRUN` (Linux 5.19): task work waits for the
    /// next transition into the kernel instead of interrupting.
    case cooperative
    /// No task-running flag: older kernels.
    case plain

    /// Creates `ring` with `entries` SQEs and `completionEntries` CQEs,
    /// trying the modes from best to plainest: a kernel that does not know
    /// a flag answers `EINVAL`.
    ///
    /// - Throws: ``SystemError`` for `io_uring_setup` when even a plain ring
    ///   is refused (`ENOSYS`: no io_uring; `EPERM`: seccomp or
    ///   `kernel.io_uring_disabled`; `ENOMEM`: locked-memory limit).
    static func makeRing(
        _ ring: inout io_uring, entries: UInt32, completionEntries: UInt32
    ) throws(SystemError)
        -> URingSetup
    {
        let modes: [(URingSetup, UInt32)] = [
            (.singleIssuer, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED),
            (.cooperative, IORING_SETUP_COOP_TASKRUN),
            (.plain, 0),
        ]
        var failure: Int32 = EINVAL
        for (mode, flags) in modes {
            var parameters = io_uring_params()
            parameters.flags = flags | IORING_SETUP_CQSIZE
            parameters.cq_entries = completionEntries
            let result = io_uring_queue_init_params(entries, &ring, &parameters)
            if result == 0 { return mode }
            failure = -result
            guard failure == EINVAL else { break }
        }
        throw SystemError(errno: failure, call: "io_uring_setup")
    }
}
