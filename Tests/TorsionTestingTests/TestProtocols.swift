import TorsionCore
import TorsionTesting

/// Writes back everything it receives.
final class Echo: AccumulatingProtocol {
    override func dataReceived(_ data: [UInt8]) {
        super.dataReceived(data)
        transport?.write(data)
    }
}

/// Writes `greeting` as soon as it is connected.
final class Greeter: AccumulatingProtocol {
    let greeting: String
    init(_ greeting: String) { self.greeting = greeting }
    override func connectionMade() {
        super.connectionMade()
        transport?.write(greeting)
    }
}

/// Records every event of a half-closeable connection, in order.
final class HalfCloseRecorder: AccumulatingProtocol, HalfCloseableProtocol {
    private(set) var events: [String] = []
    func readConnectionLost() { events.append("readConnectionLost") }
    func writeConnectionLost() { events.append("writeConnectionLost") }
}

/// A push producer that records the calls it receives.
final class RecordingPushProducer: PushProducer {
    private(set) var calls: [String] = []
    func pauseProducing() { calls.append("pause") }
    func resumeProducing() { calls.append("resume") }
    func stopProducing() { calls.append("stop") }
}

/// A pull producer writing `chunks` to `consumer`, one per request, then
/// unregistering.
final class ChunkPullProducer: PullProducer {
    weak var consumer: (any Consumer)?
    private var chunks: [[UInt8]]
    private(set) var requests = 0
    private(set) var stopped = false

    init(consumer: any Consumer, chunks: [String]) {
        self.consumer = consumer
        self.chunks = chunks.map { Array($0.utf8) }
    }

    func resumeProducing() {
        requests += 1
        guard !chunks.isEmpty else { return }
        consumer?.write(chunks.removeFirst())
        if chunks.isEmpty { consumer?.unregisterProducer() }
    }

    func stopProducing() { stopped = true }
}

/// A producer that is neither push nor pull-specific: only `stopProducing`.
final class BareProducer: Producer {
    func stopProducing() {}
}

/// Bytes of a string, for short expectations.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
