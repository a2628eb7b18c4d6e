/// The state of a transport in its role as a ``TorsionCore/PushProducer`` of
/// incoming data, as a test double records it: Twisted's `producerState`
/// strings made an enum.
///
/// A protocol pauses its transport to stop reading (``TorsionCore/PushProducer/pauseProducing()``),
/// resumes it, or stops it for good. Test doubles move between these states
/// and nothing else, so a test can assert what the protocol asked for.
public enum ProducerState: String, Sendable, Hashable {
    /// Reading (the initial state, and the state after a resume).
    case producing
    /// Reading was paused by `pauseProducing()`.
    case paused
    /// `stopProducing()` was called; a stopped producer never resumes.
    case stopped
}
