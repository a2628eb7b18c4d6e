#if canImport(Glibc)
import Glibc  // log and cos only: TorsionCore makes no system calls.
#elseif canImport(Darwin)
import Darwin
#endif

/// A client factory that reconnects after a failed or lost connection with
/// exponential back-off: Twisted's `ReconnectingClientFactory`.
///
/// After each failure the delay is multiplied by ``factor`` (capped at
/// ``maxDelay``) and, with ``jitter`` > 0, drawn from a normal distribution
/// around it so that many clients do not reconnect in lock-step. Call
/// ``resetDelay()`` when a connection succeeds (typically in
/// `connectionMade`) and ``stopTrying()`` to give up. Time comes from
/// ``clock``, so the schedule is testable with ``Clock``.
/// Reactor thread only.
open class ReconnectingClientFactory: ClientFactory {
    /// Upper bound of the delay between attempts, in seconds.
    public var maxDelay: Double = 3600
    /// The delay before the first retry, in seconds.
    public var initialDelay: Double = 1.0
    /// Growth of the delay per retry; Twisted uses e.
    public var factor: Double = 2.7182818284590451
    /// Relative standard deviation of the random spread of each delay;
    /// Twisted's value (about 0.12).
    public var jitter: Double = 0.11962656472
    /// Maximum number of retries; `nil` retries forever.
    public var maxRetries: Int?

    /// The delay that will be used before the next retry.
    public private(set) var delay: Double
    /// Retries made since the last ``resetDelay()``.
    public private(set) var retries = 0
    /// `false` after ``stopTrying()`` until ``resetDelay()``.
    public private(set) var continueTrying = true
    /// The pending retry, if one is scheduled.
    public private(set) var pendingRetry: DelayedCall?
    /// The connector of the last failed/lost connection.
    public private(set) var connector: (any Connector)?

    /// The scheduler used for retries.
    public let clock: any ReactorTime

    /// Draws a normally distributed number with the given mean and standard
    /// deviation; replaceable for tests.
    public var normalVariate: (_ mean: Double, _ standardDeviation: Double) -> Double = { mean, deviation in
        // Box–Muller transform over the system generator.
        let u1 = Double.random(in: Double.ulpOfOne..<1)
        let u2 = Double.random(in: 0..<1)
        return mean + deviation * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Makes a factory scheduling its retries on `clock`.
    public init(clock: any ReactorTime) {
        self.clock = clock
        self.delay = initialDelay
        super.init()
    }

    /// Schedules a retry (unless stopped).
    open override func clientConnectionFailed(_ connector: any Connector, reason: Failure) {
        if continueTrying {
            self.connector = connector
            retry()
        }
    }

    /// Schedules a reconnection (unless stopped).
    open override func clientConnectionLost(_ connector: any Connector, reason: Failure) {
        if continueTrying {
            self.connector = connector
            retry()
        }
    }

    /// Schedules the next attempt on ``connector`` after the grown delay.
    /// Does nothing after ``stopTrying()`` or once ``maxRetries`` is reached.
    public func retry(_ connector: (any Connector)? = nil) {
        guard continueTrying, let connector = connector ?? self.connector else { return }
        retries += 1
        if let maxRetries, retries > maxRetries { return }
        delay = min(delay * factor, maxDelay)
        if jitter > 0 {
            delay = normalVariate(delay, delay * jitter)
        }
        delay = max(0, delay)
        pendingRetry = clock.callLater(delay) { [weak self] in
            self?.pendingRetry = nil
            connector.connect()
        }
    }

    /// Stops reconnecting: cancels a scheduled retry and abandons an
    /// attempt in progress.
    public func stopTrying() {
        if let pendingRetry, pendingRetry.isActive {
            try? pendingRetry.cancel()
        }
        pendingRetry = nil
        continueTrying = false
        if let connector {
            // Throws NotConnectingError when not connecting: nothing to stop.
            try? connector.stopConnecting()
        }
    }

    /// Starts over: the next retry waits ``initialDelay`` again and trying
    /// is re-enabled. Call it when a connection succeeded.
    public func resetDelay() {
        delay = initialDelay
        retries = 0
        pendingRetry = nil
        continueTrying = true
    }
}
