import Glibc

/// A socket call failed: the call's name, its `errno` and the system's text
/// for it, so a failure always says which call failed and why. Values may
/// cross threads.
public struct SocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `errno` value the call left.
    public let errno: Int32
    /// The failed call, for example `"connect"`.
    public let call: String
    /// `strerror(errno)`, captured when the error was made.
    public let message: String

    /// Makes the error for `call` failing with `errno`.
    public init(errno: Int32, call: String) {
        self.errno = errno
        self.call = call
        self.message = String(cString: strerror(errno))
    }

    /// `call: message (errno N)`.
    public var description: String { "SocketError: \(call): \(message) (errno \(errno))" }
}

/// Runs `body` again while it fails with `EINTR` (a signal arrived during
/// the call); any other negative result throws ``SocketError`` for `call`.
@discardableResult
func socketCall<Result: BinaryInteger>(_ call: String, _ body: () -> Result) throws(SocketError) -> Result {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code != EINTR { throw SocketError(errno: code, call: call) }
    }
}
