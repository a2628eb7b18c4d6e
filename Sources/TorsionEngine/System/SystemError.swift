import Glibc

/// A system call failed: the call's name, its `errno` and the system's text
/// for it. Every syscall wrapper of TorsionPosix throws this, so a failure
/// always says which call failed and why.
public struct SystemError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The `errno` value the call left.
    public let errno: Int32
    /// The name of the failed call, for example `"epoll_ctl(ADD)"`.
    public let call: String

    /// Makes the error from an explicit `errno`.
    public init(errno: Int32, call: String) {
        self.errno = errno
        self.call = call
    }

    /// Makes the error from the calling thread's current `errno`; call it
    /// right after the failed call, before anything else can change `errno`.
    public init(call: String) {
        self.init(errno: Glibc.errno, call: call)
    }

    /// `call: strerror text (errno N)`.
    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs `body` again while it fails with `EINTR` (a signal interrupted the
/// call); any other negative result throws ``SystemError`` named `call`.
/// Returns the non-negative result.
@discardableResult
package func retryingInterrupts<Result: BinaryInteger>(_ call: String, _ body: () -> Result) throws(SystemError) -> Result {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(errno: code, call: call)
    }
}
