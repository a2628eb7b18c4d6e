import Testing
import TorsionCore
import TorsionProtocols

final class IntNRecorder: IntNStringReceiver {
    var strings: [[UInt8]] = []
    var exceededLengths: [Int] = []
    var onString: ((IntNRecorder, [UInt8]) -> Void)?

    override func stringReceived(_ string: [UInt8]) {
        strings.append(string)
        onString?(self, string)
    }

    override func lengthLimitExceeded(_ length: Int) {
        exceededLengths.append(length)
        super.lengthLimitExceeded(length)
    }
}

/// The big-endian prefix of `length` on `width` bytes.
func prefix(_ length: Int, width: Int) -> [UInt8] {
    (0..<width).reversed().map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
}

/// The messages framed with `width`-byte prefixes.
func framed(_ messages: [[UInt8]], width: Int) -> [UInt8] {
    messages.flatMap { prefix($0.count, width: width) + $0 }
}

@Suite("IntNStringReceiver")
struct IntNStringReceiverTests {
    static let widths = [1, 2, 4]
    static let messages: [[UInt8]] = [bytes("first"), [], [0, 0, 0, 0], [UInt8](repeating: 9, count: 200), bytes("z")]

    @Test("delivers the same strings whether fed whole, byte by byte or in random pieces", arguments: widths)
    func chunkingIndependence(width: Int) {
        for chunking in Chunking.allCases {
            let receiver = IntNRecorder(prefixWidth: width)
            receiver.connectRecording()
            receiver.receive(framed(Self.messages, width: width), chunking)
            #expect(receiver.strings == Self.messages, "\(chunking)")
            #expect(receiver.bufferedByteCount == 0)
        }
    }

    @Test("the Int8, Int16 and Int32 receivers use 1, 2 and 4 byte prefixes")
    func concreteWidths() {
        #expect(Int8StringReceiver().prefixWidth == 1)
        #expect(Int16StringReceiver().prefixWidth == 2)
        #expect(Int32StringReceiver().prefixWidth == 4)
        #expect(Int8StringReceiver().maximumStringLength == 255)
        #expect(Int16StringReceiver().maximumStringLength == 65535)
        #expect(Int32StringReceiver().maximumStringLength == 4_294_967_295)
    }

    @Test("a prefix over maxLength is refused at once, after the strings before it", arguments: widths)
    func lengthLimit(width: Int) {
        for chunking in Chunking.allCases {
            let receiver = IntNRecorder(prefixWidth: width)
            receiver.maxLength = 100
            let transport = receiver.connectRecording()
            let stream = framed([bytes("ok")], width: width) + prefix(101, width: width) + [1, 2, 3]
            receiver.receive(stream, chunking)
            #expect(strings(receiver.strings) == ["ok"])
            #expect(receiver.exceededLengths == [101])
            #expect(receiver.lengthLimitError == LengthLimitExceededError(length: 101, maxLength: 100))
            #expect(transport.loseConnectionCount == 1)
            #expect(receiver.bufferedByteCount == 0)
            receiver.receive(framed([bytes("late")], width: width), .whole)
            #expect(receiver.strings.count == 1, "input after the error is ignored")
        }
    }

    @Test("a huge 32-bit prefix is refused without waiting for or reserving its bytes")
    func hugePrefix() {
        let receiver = IntNRecorder(prefixWidth: 4)
        let transport = receiver.connectRecording()
        receiver.dataReceived([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(receiver.exceededLengths == [4_294_967_295])
        #expect(transport.loseConnectionCount == 1)
        #expect(receiver.bufferedByteCount == 0)
    }

    @Test("a string of exactly maxLength is accepted and the buffer stays within prefix plus maxLength")
    func atLimit() {
        let receiver = IntNRecorder(prefixWidth: 2)
        receiver.maxLength = 500
        receiver.connectRecording()
        let message = [UInt8](repeating: 3, count: 500)
        var largest = 0
        for chunk in Chunking.byteByByte.chunks(of: framed([message, message], width: 2)) {
            receiver.dataReceived(chunk)
            largest = max(largest, receiver.bufferedByteCount)
        }
        #expect(receiver.strings == [message, message])
        #expect(largest <= 2 + 500)
    }

    @Test("while paused strings are buffered, resumeProducing delivers them", arguments: widths)
    func pauseAndResume(width: Int) {
        let receiver = IntNRecorder(prefixWidth: width)
        receiver.onString = { receiver, string in
            if string == bytes("pause") { receiver.pauseProducing() }
        }
        let transport = receiver.connectRecording()
        receiver.receive(framed([bytes("pause"), bytes("b")], width: width), .whole)
        receiver.receive(framed([bytes("c")], width: width), .whole)
        #expect(strings(receiver.strings) == ["pause"])
        #expect(transport.pauseCount == 1)
        receiver.resumeProducing()
        #expect(strings(receiver.strings) == ["pause", "b", "c"])
        #expect(transport.resumeCount == 1)
    }

    @Test("sendString writes a big-endian prefix and the string in one write", arguments: widths)
    func sendString(width: Int) throws {
        let receiver = IntNRecorder(prefixWidth: width)
        let transport = receiver.connectRecording()
        let message = [UInt8](repeating: 1, count: 255)
        try receiver.sendString(message)
        try receiver.sendString("hi")
        #expect(transport.writes == [prefix(255, width: width) + message, prefix(2, width: width) + bytes("hi")])
    }

    @Test("sendString throws StringTooLongError when the length does not fit the prefix, writing nothing")
    func stringTooLong() throws {
        let int8 = Int8StringReceiver()
        let transport8 = int8.connectRecording()
        #expect(throws: StringTooLongError(length: 256, maximum: 255)) {
            try int8.sendString([UInt8](repeating: 0, count: 256))
        }
        #expect(transport8.writes.isEmpty)
        let int16 = Int16StringReceiver()
        let transport16 = int16.connectRecording()
        #expect(throws: StringTooLongError(length: 65536, maximum: 65535)) {
            try int16.sendString([UInt8](repeating: 0, count: 65536))
        }
        try int16.sendString([UInt8](repeating: 0, count: 65535))
        #expect(transport16.writes.count == 1)
    }
}
