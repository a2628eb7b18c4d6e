import CTorsionPosix
import Glibc

/// CPU seconds (user + system) a process has used, from fields 14 and 15
/// (`utime`, `stime`, in clock ticks) of `/proc/PID/stat`; `nil` when the
/// process does not exist or the file cannot be read or parsed.
///
/// Any thread. Reads one small file; does not allocate beyond a 1 KiB
/// buffer on the stack of the call.
public func processCPUSeconds(pid: Int32) -> Double? {
    guard pid > 0 else { return nil }
    let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    // A stat line is well under 1 KiB (52 numeric fields plus a command
    // name of at most 16 bytes), so one read holds it.
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer -> Double? in
        let count = read(fd, buffer.baseAddress, buffer.count)
        guard count > 0 else { return nil }
        let line = UnsafeBufferPointer(rebasing: buffer[0..<count])
        // The command name (field 2) is in parentheses and may hold spaces
        // or parentheses itself: the fields that follow start after the
        // last ')'.
        guard let nameEnd = line.lastIndex(of: UInt8(ascii: ")")), nameEnd + 2 <= line.count else { return nil }
        // Fields after the name are separated by single spaces; the first
        // of them is field 3, so utime (14) and stime (15) are tokens 11, 12.
        var token = 0
        var value: UInt64 = 0
        var utime: UInt64 = 0
        for byte in line[(nameEnd + 2)...] {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                if token == 11 { utime = value }
                if token == 12 {
                    let ticks = sysconf(Int32(_SC_CLK_TCK))
                    return ticks > 0 ? Double(utime + value) / Double(ticks) : nil
                }
                token += 1
                value = 0
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
            }
        }
        return nil
    }
}

/// Small syscall helpers of the load generator; its own, so that it stays
/// independent of the engines under test.
enum LoadSystem {
    /// CLOCK_MONOTONIC in nanoseconds.
    @inline(__always)
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// CPU seconds (user + system) of the calling thread.
    static func threadCPUSeconds() -> Double {
        var usage = rusage()
        // RUSAGE_THREAD (1, Linux 2.6.26) is declared only under
        // _GNU_SOURCE, which Glibc's Swift module lacks.
        let who = __rusage_who_t(1)
        guard getrusage(who, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Makes sure `needed` descriptors can be open at once: raises the soft
    /// RLIMIT_NOFILE to the hard limit when it is too low, and fails with
    /// a message naming the limit when even the hard limit is too low.
    static func ensureDescriptors(_ needed: Int) throws(LoadError) {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else {
            throw LoadError(.system, "getrlimit(RLIMIT_NOFILE) failed: \(errnoText(errno))")
        }
        if limit.rlim_cur >= rlim_t(needed) { return }
        // RLIM_INFINITY is all ones, so it passes this test too.
        if limit.rlim_max >= rlim_t(needed) {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { return }
        }
        throw LoadError(
            .system,
            "the run needs \(needed) file descriptors but RLIMIT_NOFILE allows \(limit.rlim_cur) (hard limit \(limit.rlim_max)); raise it with ulimit -n"
        )
    }
}
