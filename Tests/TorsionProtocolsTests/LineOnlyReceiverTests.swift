import Testing
import TorsionCore
import TorsionProtocols

final class LineOnlyRecorder: LineOnlyReceiver {
    var lines: [[UInt8]] = []
    var exceeded: [[UInt8]] = []
    var onLine: ((LineOnlyRecorder, [UInt8]) -> Void)?

    override func lineReceived(_ line: [UInt8]) {
        lines.append(line)
        onLine?(self, line)
    }

    override func lineLengthExceeded(_ line: [UInt8]) {
        exceeded.append(line)
        super.lineLengthExceeded(line)
    }
}

@Suite("LineOnlyReceiver")
struct LineOnlyReceiverTests {
    @Test("delivers the same lines whether fed whole, byte by byte or in random pieces", arguments: Chunking.allCases)
    func chunkingIndependence(chunking: Chunking) {
        let receiver = LineOnlyRecorder()
        receiver.connectRecording()
        receiver.receive(LineReceiverTests.stream, chunking)
        #expect(strings(receiver.lines) == LineReceiverTests.expected)
        #expect(receiver.bufferedByteCount == "partial".utf8.count)
    }

    @Test("a too-long line closes the connection after the lines before it were delivered", arguments: Chunking.allCases)
    func tooLong(chunking: Chunking) {
        let receiver = LineOnlyRecorder()
        receiver.maxLength = 5
        let transport = receiver.connectRecording()
        receiver.receive(bytes("12345\r\nabcdefgh\r\nnever\r\n"), chunking)
        #expect(strings(receiver.lines) == ["12345"])
        #expect(receiver.lineLengthError == LineLengthExceededError(maxLength: 5))
        #expect(transport.loseConnectionCount == 1)
        #expect(receiver.bufferedByteCount < 5 + 2)
    }

    @Test("an endless line keeps the buffer under maxLength plus the delimiter")
    func endlessLine() {
        let receiver = LineOnlyRecorder()
        receiver.maxLength = 64
        receiver.connectRecording()
        var largest = 0
        var generator = SplitMix64(seed: 7)
        for chunk in randomChunks(of: [UInt8](repeating: 65, count: 5000), maxSize: 9, using: &generator) {
            receiver.dataReceived(chunk)
            largest = max(largest, receiver.bufferedByteCount)
        }
        #expect(largest < 64 + 2)
        #expect(!receiver.exceeded.isEmpty)
    }

    @Test("nothing is delivered once the transport is disconnecting, not even the first line of a read")
    func disconnecting() {
        let receiver = LineOnlyRecorder()
        receiver.onLine = { receiver, _ in receiver.transport?.loseConnection() }
        receiver.connectRecording()
        receiver.receive("bye\r\nafter\r\n")
        receiver.receive("later\r\n")
        #expect(strings(receiver.lines) == ["bye"])
    }

    @Test("sendLine writes the line and the delimiter as one vectored write")
    func sendLine() {
        let receiver = LineOnlyRecorder()
        let transport = receiver.connectRecording()
        receiver.sendLine("ping")
        #expect(transport.writeSequenceCount == 1)
        #expect(transport.written == bytes("ping\r\n"))
    }
}
