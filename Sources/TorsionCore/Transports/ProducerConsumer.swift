/// Something that produces data for a ``Consumer``: Twisted's `IProducer`.
/// Reactor thread only, like the consumer it feeds.
public protocol Producer: AnyObject {
    /// Stops producing for good: the consumer is going away.
    func stopProducing()
}

/// A producer that writes on its own and can be told to pause when the
/// consumer's buffer fills (Twisted's `IPushProducer`, "streaming").
public protocol PushProducer: Producer {
    /// Stop writing until ``resumeProducing()``; writes are buffering up.
    func pauseProducing()
    /// Start writing again after ``pauseProducing()``.
    func resumeProducing()
}

/// A producer that writes one chunk each time it is asked (Twisted's
/// `IPullProducer`, not streaming).
public protocol PullProducer: Producer {
    /// Produce one more chunk of data by writing it to the consumer.
    func resumeProducing()
}

/// Thrown by ``Consumer/registerProducer(_:streaming:)`` when a producer is
/// already registered: a consumer takes one producer at a time.
public struct ProducerAlreadyRegisteredError: Error, CustomStringConvertible {
    /// Makes the error.
    public init() {}
    /// A fixed explanation.
    public var description: String {
        "ProducerAlreadyRegisteredError: cannot register a producer while another one is registered"
    }
}

/// Something that accepts bytes and flow-controls a producer: Twisted's
/// `IConsumer`. Reactor thread only.
public protocol Consumer: AnyObject {
    /// Attaches `producer`. When `streaming` is true it must be a
    /// ``PushProducer`` and is paused above the consumer's high-water mark
    /// and resumed once drained; otherwise it is a ``PullProducer`` asked
    /// for data each time the consumer's buffer empties.
    ///
    /// - Throws: ``ProducerAlreadyRegisteredError`` when one is registered.
    func registerProducer(_ producer: any Producer, streaming: Bool) throws

    /// Detaches the registered producer (no-op without one).
    func unregisterProducer()

    /// Accepts bytes; never blocks.
    func write(_ data: [UInt8])
}
