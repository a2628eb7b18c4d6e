import Glibc

/// Small helpers over raw file descriptors, shared by the pollers, the
/// waker and the reactor.
package enum Descriptors {
    /// Sets `O_NONBLOCK` on `fd`.
    package static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = try retryingInterrupts("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        if flags & O_NONBLOCK != 0 { return }
        try retryingInterrupts("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Closes `fd`. `EINTR` is not retried: on Linux the descriptor is
    /// released even when close reports it, and retrying could close a
    /// number another thread has just been given.
    package static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `true` while `fd` names an open descriptor of this process.
    package static func isOpen(_ fd: Int32) -> Bool {
        fcntl(fd, F_GETFD) != -1
    }
}

/// Seconds on `CLOCK_MONOTONIC`: never jumps with wall-clock changes, so
/// timers keep their intervals across NTP steps. Only differences matter.
package func monotonicSeconds() -> Double {
    var now = timespec()
    // CLOCK_MONOTONIC cannot fail on Linux with a valid pointer.
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The value of the environment variable `name`, if set.
package func processEnvironment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
