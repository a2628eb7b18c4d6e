/// The family of reasons a connection ended; ``Protocol/connectionLost(reason:)``
/// receives one of them inside a ``Failure``.
///
/// Twisted's `ConnectionClosed` base class: `failure.error is any
/// ConnectionClosed` matches both the clean and the unclean end.
public protocol ConnectionClosed: Error {}

/// The connection was closed cleanly (Twisted's `ConnectionDone`).
public struct ConnectionDone: ConnectionClosed, CustomStringConvertible, Equatable {
    /// Optional detail.
    public let reason: String?
    /// Makes the error.
    public init(_ reason: String? = nil) { self.reason = reason }
    /// Explains the clean close.
    public var description: String {
        "ConnectionDone: connection was closed cleanly" + (reason.map { " (\($0))" } ?? "")
    }
}

/// The connection was closed in a non-clean fashion, for example reset by
/// the peer (Twisted's `ConnectionLost`).
public struct ConnectionLost: ConnectionClosed, CustomStringConvertible, Equatable {
    /// Optional detail, for example the system error.
    public let reason: String?
    /// Makes the error.
    public init(_ reason: String? = nil) { self.reason = reason }
    /// Explains the unclean close.
    public var description: String {
        "ConnectionLost: connection was lost in a non-clean fashion" + (reason.map { " (\($0))" } ?? "")
    }
}

/// The connection was dropped by ``Transport/abortConnection()``
/// (Twisted's `ConnectionAborted`, a kind of `ConnectionLost`).
public struct ConnectionAborted: ConnectionClosed, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the abort.
    public var description: String { "ConnectionAborted: connection was aborted locally" }
}

/// A connection attempt failed (Twisted's `ConnectError`); the specific
/// kinds below are separate types carrying the same detail.
public struct ConnectError: Error, CustomStringConvertible, Equatable {
    /// Optional detail.
    public let reason: String?
    /// Makes the error.
    public init(_ reason: String? = nil) { self.reason = reason }
    /// Explains the failure.
    public var description: String { "ConnectError: an error occurred while connecting" + (reason.map { ": \($0)" } ?? "") }
}

/// The peer refused the connection (ECONNREFUSED).
public struct ConnectionRefused: Error, CustomStringConvertible, Equatable {
    /// Optional detail.
    public let reason: String?
    /// Makes the error.
    public init(_ reason: String? = nil) { self.reason = reason }
    /// Explains the refusal.
    public var description: String { "ConnectionRefused: connection was refused by other side" + (reason.map { ": \($0)" } ?? "") }
}

/// An operation did not complete in time: a connection attempt, or a
/// ``Deferred`` given ``Deferred/addTimeout(_:clock:onTimeoutCancel:)``.
public struct TimeoutError: Error, CustomStringConvertible, Equatable {
    /// The limit that was exceeded, in seconds, when known.
    public let seconds: Double?
    /// Makes the error.
    public init(seconds: Double? = nil) { self.seconds = seconds }
    /// Explains the timeout.
    public var description: String {
        "TimeoutError: user timeout caused connection failure" + (seconds.map { " (after \($0) s)" } ?? "")
    }
}

/// A host name could not be resolved.
public struct DNSLookupError: Error, CustomStringConvertible, Equatable {
    /// The name that failed to resolve.
    public let host: String
    /// The resolver's explanation.
    public let reason: String?
    /// Makes the error.
    public init(host: String, reason: String? = nil) {
        self.host = host
        self.reason = reason
    }
    /// Names the host and the reason.
    public var description: String { "DNSLookupError: cannot resolve \(host)" + (reason.map { ": \($0)" } ?? "") }
}

/// A port could not be opened for listening, for example because the
/// address is in use.
public struct CannotListenError: Error, CustomStringConvertible, Equatable {
    /// The interface asked for ("" for all).
    public let interface: String
    /// The port or path asked for.
    public let port: String
    /// The system's explanation.
    public let reason: String
    /// Makes the error.
    public init(interface: String, port: String, reason: String) {
        self.interface = interface
        self.port = port
        self.reason = reason
    }
    /// Names the address and the reason.
    public var description: String { "CannotListenError: couldn't listen on \(interface):\(port): \(reason)" }
}

/// A connection attempt was cancelled by the user (``Connector`` stopped, or
/// the endpoint's Deferred cancelled).
public struct ConnectingCancelledError: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the cancellation.
    public var description: String { "ConnectingCancelledError: the connection attempt was cancelled" }
}

/// `stopConnecting()` was called on a connector that is not connecting.
public struct NotConnectingError: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the misuse.
    public var description: String { "NotConnectingError: the connector is not connecting" }
}

/// A listening port was stopped while not listening.
public struct NotListeningError: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the misuse.
    public var description: String { "NotListeningError: the port is not listening" }
}

/// The address given is not valid for the operation.
public struct InvalidAddressError: Error, CustomStringConvertible, Equatable {
    /// The offending address, as given.
    public let address: String
    /// Why it is invalid.
    public let reason: String
    /// Makes the error.
    public init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }
    /// Names the address and the reason.
    public var description: String { "InvalidAddressError: \(address): \(reason)" }
}

/// A child process exited with status 0 (Twisted's `ProcessDone`).
public struct ProcessDone: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the exit.
    public var description: String { "ProcessDone: a process has ended without apparent errors" }
}

/// A child process exited with a non-zero status or was killed by a signal
/// (Twisted's `ProcessTerminated`).
public struct ProcessTerminated: Error, CustomStringConvertible, Equatable {
    /// The exit code, when it exited.
    public let exitCode: Int32?
    /// The signal number, when a signal killed it.
    public let signal: Int32?
    /// Makes the error.
    public init(exitCode: Int32? = nil, signal: Int32? = nil) {
        self.exitCode = exitCode
        self.signal = signal
    }
    /// Names the exit code or signal.
    public var description: String {
        if let signal { return "ProcessTerminated: process ended by signal \(signal)" }
        return "ProcessTerminated: process ended with exit code \(exitCode.map(String.init) ?? "unknown")"
    }
}

/// A signal was sent to a child process that has already exited and been
/// reaped (Twisted's `ProcessExitedAlready`).
public struct ProcessExitedAlready: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the misuse.
    public var description: String { "ProcessExitedAlready: the process has already exited" }
}

/// The reactor was asked to stop while not running.
public struct ReactorNotRunning: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the misuse.
    public var description: String { "ReactorNotRunning: can't stop a reactor that isn't running" }
}

/// `run()` was called on a reactor that is already running.
public struct ReactorAlreadyRunning: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the misuse.
    public var description: String { "ReactorAlreadyRunning: the reactor is already running" }
}

/// `run()` was called on a reactor that has already stopped once.
public struct ReactorNotRestartable: Error, CustomStringConvertible, Equatable {
    /// Makes the error.
    public init() {}
    /// Explains the misuse.
    public var description: String { "ReactorNotRestartable: a stopped reactor cannot be restarted" }
}
