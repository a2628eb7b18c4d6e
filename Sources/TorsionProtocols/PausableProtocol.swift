import TorsionCore

/// A protocol that is also a ``PushProducer`` of what it delivers: the
/// shared base of ``LineReceiver`` and ``IntNStringReceiver`` (Twisted's
/// `_PauseableMixin`, a base class here because Swift has no mixins).
///
/// Pausing stops the transport's reading and sets ``paused``; subclasses
/// keep buffering what still arrives and deliver nothing while it is set.
/// Resuming restarts reading and hands the subclass an empty read, so the
/// bytes buffered meanwhile are delivered at once. This lets a receiver be
/// registered as the producer of a slower consumer (a proxy, a file).
/// Reactor thread only.
open class PausableProtocol: Protocol, PushProducer {
    /// `true` between ``pauseProducing()`` (or ``stopProducing()``) and
    /// ``resumeProducing()``: nothing is delivered.
    public private(set) var paused = false

    /// Stops delivering and pauses the transport's reading; received bytes
    /// are kept.
    open func pauseProducing() {
        paused = true
        transport?.pauseProducing()
    }

    /// Resumes the transport's reading and delivers what was buffered
    /// while paused, through `dataReceived([])`.
    open func resumeProducing() {
        paused = false
        transport?.resumeProducing()
        dataReceived([])
    }

    /// Stops delivering for good and tells the transport to stop producing.
    open func stopProducing() {
        paused = true
        transport?.stopProducing()
    }
}
