import Testing
import TorsionCore
import TorsionProtocols

final class NetstringRecorder: NetstringReceiver {
    var strings: [[UInt8]] = []

    override func stringReceived(_ string: [UInt8]) {
        strings.append(string)
    }
}

@Suite("NetstringReceiver")
struct NetstringReceiverTests {
    static let messages: [[UInt8]] = [bytes("hello"), [], bytes("with:colon,comma"), [0, 255, 44, 58], bytes("x")]

    /// The messages framed as netstrings.
    static func framed(_ messages: [[UInt8]]) -> [UInt8] {
        messages.flatMap { bytes("\($0.count):") + $0 + bytes(",") }
    }

    @Test("delivers the same strings whether fed whole, byte by byte or in random pieces", arguments: Chunking.allCases)
    func chunkingIndependence(chunking: Chunking) {
        let receiver = NetstringRecorder()
        let transport = receiver.connectRecording()
        receiver.receive(Self.framed(Self.messages), chunking)
        #expect(receiver.strings == Self.messages)
        #expect(!receiver.brokenPeer)
        #expect(transport.loseConnectionCount == 0)
        #expect(receiver.bufferedByteCount == 0)
    }

    @Test(
        "malformed input marks the peer broken, closes, and keeps the strings before it",
        arguments: [
            ("x:abc,", NetstringParseError.missingLength(found: UInt8(ascii: "x"))),
            (":abc,", .missingLength(found: UInt8(ascii: ":"))),
            ("03:abc,", .leadingZero),
            ("00:,", .leadingZero),
            ("3;abc,", .missingColon(found: UInt8(ascii: ";"))),
            ("3:abc;", .missingComma(found: UInt8(ascii: ";"))),
            ("3:abcd,", .missingComma(found: UInt8(ascii: "d"))),
            ("100000:", .lengthTooLarge(maxLength: 99999)),
        ])
    func malformed(garbage: String, error: NetstringParseError) {
        for chunking in Chunking.allCases {
            let receiver = NetstringRecorder()
            let transport = receiver.connectRecording()
            receiver.receive(bytes("2:ok,") + bytes(garbage) + bytes("2:no,"), chunking)
            #expect(strings(receiver.strings) == ["ok"], "\(chunking)")
            #expect(receiver.brokenPeer)
            #expect(receiver.parseError == error)
            #expect(transport.loseConnectionCount == 1)
            #expect(receiver.bufferedByteCount == 0)
            receiver.receive("2:la,")
            #expect(receiver.strings.count == 1, "input after the error is ignored")
        }
    }

    @Test("a huge length is refused after a few digits, without buffering it")
    func hugeLength() {
        let receiver = NetstringRecorder()
        let transport = receiver.connectRecording()
        var fed = 0
        while !receiver.brokenPeer && fed < 1_000_000 {
            receiver.receive("9")
            fed += 1
        }
        #expect(fed == 6, "99999 is allowed, the sixth 9 exceeds it")
        #expect(receiver.parseError == .lengthTooLarge(maxLength: 99999))
        #expect(transport.loseConnectionCount == 1)
    }

    @Test("a payload of exactly maxLength is accepted and the buffer never exceeds it plus the comma")
    func payloadAtLimit() {
        let receiver = NetstringRecorder()
        receiver.maxLength = 1000
        receiver.connectRecording()
        let payload = [UInt8](repeating: 7, count: 1000)
        var largest = 0
        for chunk in Chunking.byteByByte.chunks(of: Self.framed([payload])) {
            receiver.dataReceived(chunk)
            largest = max(largest, receiver.bufferedByteCount)
        }
        #expect(receiver.strings == [payload])
        #expect(largest <= 1000 + 1)
    }

    @Test("sendString frames the payload as length, colon, payload, comma")
    func sendString() {
        let receiver = NetstringRecorder()
        let transport = receiver.connectRecording()
        receiver.sendString("hello")
        receiver.sendString([])
        #expect(transport.writes == [bytes("5:hello,"), bytes("0:,")])
    }
}
