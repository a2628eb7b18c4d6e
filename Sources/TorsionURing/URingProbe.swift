import CLibURing
import Glibc
import TorsionEngine

/// Whether io_uring can run here, as found by ``URingProbe``.
package enum URingAvailability: Equatable, Sendable {
    /// A ring can be created and the kernel has every operation the engine
    /// submits.
    case available
    /// io_uring cannot be used, and why (one line, for `torsion backends`).
    case unavailable(reason: String)

    /// `true` for ``available``.
    package var isAvailable: Bool { self == .available }
}

/// The start-up probe of the io_uring backend: the override variable,
/// `kernel.io_uring_disabled`, the kernel version, creating a ring (which
/// seccomp filters and the sysctl refuse with `EPERM`, kernels without
/// io_uring with `ENOSYS`), and the kernel's opcode probe for every
/// operation the engine submits.
package enum URingProbe {
    /// Set (non-empty, not `0`) to make the probe report io_uring
    /// unavailable, so that the fallback to epoll can be tested on a kernel
    /// where io_uring works.
    package static let disableVariable = "TORSION_URING_DISABLE"

    /// The operations the engine submits; a kernel missing one cannot run it.
    static let opcodes: [(code: Int, name: String)] = [
        (Int(IORING_OP_NOP.rawValue), "NOP"), (Int(IORING_OP_POLL_ADD.rawValue), "POLL_ADD"),
        (Int(IORING_OP_ASYNC_CANCEL.rawValue), "ASYNC_CANCEL"), (Int(IORING_OP_ACCEPT.rawValue), "ACCEPT"),
        (Int(IORING_OP_CONNECT.rawValue), "CONNECT"), (Int(IORING_OP_RECV.rawValue), "RECV"),
        (Int(IORING_OP_SEND.rawValue), "SEND"), (Int(IORING_OP_SENDMSG.rawValue), "SENDMSG"),
    ]

    /// The oldest kernel the engine runs on: Linux 6.0 brought multishot
    /// receive into a provided buffer ring (5.19 brought the buffer ring,
    /// multishot accept and cancel-by-descriptor), which the opcode probe
    /// cannot see: the opcodes are older than their multishot forms.
    static let minimumKernel = (major: 6, minor: 0)

    /// The probe's verdict for this process, computed once (any thread).
    package static let current: URingAvailability = run(
        disable: processEnvironment(disableVariable), disabledSetting: readDisabledSetting(), kernel: kernelRelease())

    /// Runs the probe with its inputs given, so each verdict can be tested:
    /// `disable` is the value of ``disableVariable``, `disabledSetting` the
    /// contents of `/proc/sys/kernel/io_uring_disabled` (nil when absent:
    /// kernels before 6.6), `kernel` the release string of `uname -r`.
    package static func run(disable: String?, disabledSetting: String?, kernel: String) -> URingAvailability {
        if let disable, !disable.isEmpty, disable != "0" {
            return .unavailable(reason: "disabled by \(disableVariable)=\(disable)")
        }
        let setting = disabledSetting?.trimmingWhitespace()
        if setting == "2" {
            return .unavailable(reason: "disabled by the kernel (kernel.io_uring_disabled = 2)")
        }
        if let version = kernelVersion(kernel),
            version.major < minimumKernel.major
                || (version.major == minimumKernel.major && version.minor < minimumKernel.minor)
        {
            return .unavailable(
                reason: "Linux \(kernel) is older than \(minimumKernel.major).\(minimumKernel.minor) "
                    + "(multishot receive into a provided buffer ring)")
        }
        return probeRing(restrictedToGroup: setting == "1")
    }

    /// Creates a small ring the way the engine does and asks it for the
    /// opcodes.
    private static func probeRing(restrictedToGroup: Bool) -> URingAvailability {
        var ring = io_uring()
        do {
            _ = try URingSetup.makeRing(&ring, entries: 2, completionEntries: 4)
        } catch {
            switch error.errno {
            case ENOSYS: return .unavailable(reason: "the kernel has no io_uring (ENOSYS)")
            case EPERM where restrictedToGroup:
                return .unavailable(
                    reason: "kernel.io_uring_disabled = 1 and this process is not in kernel.io_uring_group (EPERM)")
            case EPERM: return .unavailable(reason: "io_uring_setup is not permitted (EPERM: a seccomp filter?)")
            default: return .unavailable(reason: "io_uring_setup failed: \(error)")
            }
        }
        defer { io_uring_queue_exit(&ring) }
        guard let probe = io_uring_get_probe_ring(&ring) else {
            return .unavailable(reason: "the kernel cannot list its io_uring operations (IORING_REGISTER_PROBE)")
        }
        defer { io_uring_free_probe(probe) }
        let missing = opcodes.filter { io_uring_opcode_supported(probe, Int32($0.code)) == 0 }.map(\.name)
        guard missing.isEmpty else {
            return .unavailable(reason: "the kernel lacks IORING_OP_\(missing.joined(separator: ", IORING_OP_"))")
        }
        return .available
    }

    /// `major.minor` of a kernel release such as `6.18.0-1-amd64`; nil
    /// when unreadable (the ring and opcode checks still run then).
    static func kernelVersion(_ release: String) -> (major: Int, minor: Int)? {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        return (parts[0], parts[1])
    }

    /// The release of the running kernel (`uname -r`).
    private static func kernelRelease() -> String {
        var name = utsname()
        guard uname(&name) == 0 else { return "" }
        // SAFETY: uname wrote a NUL-terminated string into the fixed-size
        // release field, which the rebound pointer does not outlive.
        return withUnsafeBytes(of: &name.release) { bytes in
            String(cString: bytes.bindMemory(to: CChar.self).baseAddress!)
        }
    }

    /// The contents of `/proc/sys/kernel/io_uring_disabled`, nil when the
    /// file does not exist (kernels before 6.6 have no such switch).
    private static func readDisabledSetting() -> String? {
        let fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

extension String {
    /// The string without leading and trailing spaces and newlines.
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
