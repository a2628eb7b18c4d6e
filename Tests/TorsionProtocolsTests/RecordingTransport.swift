import TorsionCore

/// A transport that records what a protocol does to it: the writes, the
/// close requests and the flow-control calls. Enough to test protocols
/// without sockets.
final class RecordingTransport: Transport {
    /// Every `write` and every buffer of a `writeSequence`, in order.
    private(set) var writes: [[UInt8]] = []
    /// Number of `writeSequence` calls (to check vectored writes).
    private(set) var writeSequenceCount = 0
    /// Number of `loseConnection` calls.
    private(set) var loseConnectionCount = 0
    /// Number of `abortConnection` calls.
    private(set) var abortCount = 0
    /// Flow-control calls.
    private(set) var pauseCount = 0
    private(set) var resumeCount = 0
    private(set) var stopCount = 0
    /// The registered producer, if any.
    private(set) var producer: (any Producer)?
    private(set) var producerIsStreaming = false

    let host: any Address
    let peer: any Address

    init(
        host: any Address = IPv4Address(host: "10.0.0.1", port: 8000),
        peer: any Address = IPv4Address(host: "192.0.2.7", port: 40000)
    ) {
        self.host = host
        self.peer = peer
    }

    /// Everything written, concatenated.
    var written: [UInt8] { writes.flatMap { $0 } }

    var disconnecting: Bool { loseConnectionCount > 0 || abortCount > 0 }

    func write(_ data: [UInt8]) { writes.append(data) }

    func writeSequence(_ data: [[UInt8]]) {
        writeSequenceCount += 1
        writes.append(contentsOf: data)
    }

    func loseConnection() { loseConnectionCount += 1 }
    func abortConnection() { abortCount += 1 }

    func registerProducer(_ producer: any Producer, streaming: Bool) throws {
        guard self.producer == nil else { throw ProducerAlreadyRegisteredError() }
        self.producer = producer
        producerIsStreaming = streaming
    }

    func unregisterProducer() { producer = nil }
    func pauseProducing() { pauseCount += 1 }
    func resumeProducing() { resumeCount += 1 }
    func stopProducing() { stopCount += 1 }
}

extension Protocol {
    /// Connects the protocol to a fresh ``RecordingTransport`` and returns it.
    @discardableResult
    func connectRecording(peer: any Address = IPv4Address(host: "192.0.2.7", port: 40000)) -> RecordingTransport {
        let transport = RecordingTransport(peer: peer)
        makeConnection(transport)
        return transport
    }
}
