import TorsionCore

/// An idle timeout for one connection: the state and logic of Twisted's
/// `TimeoutMixin`, as an object a protocol owns.
///
/// Design: Swift has no mixins, and a protocol extension cannot hold the
/// pending call nor be overridden by a subclass. So the state lives in this
/// small class, created with the scheduler to use (any ``ReactorTime``: the
/// reactor in production, a ``Clock`` in tests — Twisted needed a
/// `callLater` override for that) and with the action to run on timeout.
/// Protocols that want Twisted's spelling (`setTimeout`, `resetTimeout`)
/// adopt ``TimeoutMixin`` and expose the object.
///
/// ```swift
/// final class Session: LineReceiver, TimeoutMixin {
///     let clock: any ReactorTime
///     lazy var connectionTimeout = ConnectionTimeout(clock: clock, closing: self)
///     init(clock: any ReactorTime) { self.clock = clock }
///     override func connectionMade() { setTimeout(60) }
///     override func lineReceived(_ line: [UInt8]) { resetTimeout() }
///     override func connectionLost(reason: Failure) { setTimeout(nil) }
/// }
/// ```
///
/// The scheduled call holds the timeout weakly, so a forgotten timeout does
/// not keep its protocol alive; cancel it in `connectionLost` all the same.
/// Reactor thread only.
public final class ConnectionTimeout {
    /// Where the timeout is scheduled.
    public let clock: any ReactorTime

    /// The current period in seconds, or `nil` when no timeout is set
    /// (Twisted's `timeOut`).
    public private(set) var timeOut: Double?

    /// What runs when the period elapses without a ``resetTimeout()``.
    private let timeoutConnection: () -> Void

    /// The scheduled expiry, while one is pending.
    private var pendingCall: DelayedCall?

    /// Makes an unset timeout that runs `timeoutConnection` when it
    /// expires.
    public init(clock: any ReactorTime, timeoutConnection: @escaping () -> Void) {
        self.clock = clock
        self.timeoutConnection = timeoutConnection
    }

    /// Makes an unset timeout whose expiry closes `connection`'s transport
    /// with `loseConnection()`, as Twisted's default `timeoutConnection`
    /// does. The protocol is held weakly: it normally owns this object.
    public convenience init(clock: any ReactorTime, closing connection: Protocol) {
        self.init(clock: clock) { [weak connection] in
            connection?.transport?.loseConnection()
        }
    }

    /// `true` while an expiry is scheduled.
    public var isPending: Bool { pendingCall != nil }

    /// Sets the period to `seconds`, counting from now, or cancels the
    /// timeout with `nil`. Returns the previous period.
    @discardableResult
    public func setTimeout(_ seconds: Double?) -> Double? {
        let previous = timeOut
        timeOut = seconds
        guard let seconds else {
            if let pendingCall {
                // Only active calls are kept, so cancel cannot fail here.
                try? pendingCall.cancel()
            }
            pendingCall = nil
            return previous
        }
        if let pendingCall, pendingCall.isActive {
            try? pendingCall.reset(seconds)
        } else {
            pendingCall = clock.callLater(seconds) { [weak self] in self?.timedOut() }
        }
        return previous
    }

    /// Restarts the countdown from now, typically when the peer sent
    /// something meaningful. Does nothing when no timeout is set or it
    /// already expired.
    public func resetTimeout() {
        guard let timeOut, let pendingCall, pendingCall.isActive else { return }
        try? pendingCall.reset(timeOut)
    }

    private func timedOut() {
        pendingCall = nil
        timeoutConnection()
    }
}

/// Twisted's `TimeoutMixin` spelling for a protocol that owns a
/// ``ConnectionTimeout``: `setTimeout(_:)` and `resetTimeout()` on the
/// protocol itself. Reactor thread only.
public protocol TimeoutMixin: AnyObject {
    /// The timeout state; usually a `lazy var` so it can refer to `self`.
    var connectionTimeout: ConnectionTimeout { get }
}

extension TimeoutMixin {
    /// The current period in seconds, `nil` when unset.
    public var timeOut: Double? { connectionTimeout.timeOut }

    /// Sets (or with `nil` cancels) the timeout; returns the previous
    /// period. See ``ConnectionTimeout/setTimeout(_:)``.
    @discardableResult
    public func setTimeout(_ seconds: Double?) -> Double? {
        connectionTimeout.setTimeout(seconds)
    }

    /// Restarts the countdown. See ``ConnectionTimeout/resetTimeout()``.
    public func resetTimeout() {
        connectionTimeout.resetTimeout()
    }
}
