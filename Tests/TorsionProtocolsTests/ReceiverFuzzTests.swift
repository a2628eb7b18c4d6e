import Testing
import TorsionCore
import TorsionProtocols

/// Every message parser, set up the same way for the fuzz tests.
enum Parser: String, CaseIterable, CustomStringConvertible, Sendable {
    case line, lineOnly, netstring, int8, int16, int32

    /// A small limit so that random input reaches it often.
    static let maxLength = 64

    var description: String { rawValue }

    /// A connected receiver with the small limit.
    func make() -> Protocol {
        let receiver: Protocol
        switch self {
        case .line:
            let line = LineRecorder()
            line.maxLength = Self.maxLength
            receiver = line
        case .lineOnly:
            let line = LineOnlyRecorder()
            line.maxLength = Self.maxLength
            receiver = line
        case .netstring:
            let netstring = NetstringRecorder()
            netstring.maxLength = Self.maxLength
            receiver = netstring
        case .int8, .int16, .int32:
            let intN = IntNRecorder(prefixWidth: prefixWidth)
            intN.maxLength = Self.maxLength
            receiver = intN
        }
        receiver.connectRecording()
        return receiver
    }

    private var prefixWidth: Int {
        switch self {
        case .int8: 1
        case .int16: 2
        default: 4
        }
    }

    /// What `receiver` delivered so far.
    func delivered(_ receiver: Protocol) -> [[UInt8]] {
        switch receiver {
        case let line as LineRecorder: line.lines
        case let line as LineOnlyRecorder: line.lines
        case let netstring as NetstringRecorder: netstring.strings
        case let intN as IntNRecorder: intN.strings
        default: []
        }
    }

    /// Bytes `receiver` holds pending.
    func buffered(_ receiver: Protocol) -> Int {
        switch receiver {
        case let line as LineReceiver: line.bufferedByteCount
        case let line as LineOnlyReceiver: line.bufferedByteCount
        case let netstring as NetstringReceiver: netstring.bufferedByteCount
        case let intN as IntNStringReceiver: intN.bufferedByteCount
        default: 0
        }
    }

    /// The most bytes the receiver may hold pending between two reads.
    var bound: Int {
        switch self {
        case .line, .lineOnly: Self.maxLength + 2 - 1
        case .netstring: Self.maxLength
        case .int8, .int16, .int32: prefixWidth + Self.maxLength - 1
        }
    }

    /// `message` framed for the wire.
    func frame(_ message: [UInt8]) -> [UInt8] {
        switch self {
        case .line, .lineOnly: message + [13, 10]
        case .netstring: Array("\(message.count):".utf8) + message + [44]
        case .int8, .int16, .int32: prefix(message.count, width: prefixWidth) + message
        }
    }

    /// A valid random message of 0 to maxLength bytes (a line never holds
    /// the CRLF delimiter).
    func randomMessage(using generator: inout SplitMix64) -> [UInt8] {
        var message = generator.bytes(Int.random(in: 0...Self.maxLength, using: &generator))
        if self == .line || self == .lineOnly {
            for index in message.indices.dropFirst() where message[index - 1] == 13 && message[index] == 10 {
                message[index] = UInt8(ascii: "n")
            }
        }
        return message
    }
}

@Suite("Receiver fuzzing")
struct ReceiverFuzzTests {
    static let seeds: [UInt64] = Array(1...25)

    @Test("random valid streams cut at random places deliver exactly the messages sent", arguments: Parser.allCases)
    func validStreams(parser: Parser) {
        for seed in Self.seeds {
            var generator = SplitMix64(seed: seed)
            let messages = (0..<40).map { _ in parser.randomMessage(using: &generator) }
            let receiver = parser.make()
            let stream = messages.flatMap(parser.frame)
            for chunk in randomChunks(of: stream, maxSize: 1 + Int(seed % 90), using: &generator) {
                receiver.dataReceived(chunk)
            }
            #expect(parser.delivered(receiver) == messages, "seed \(seed)")
            #expect(parser.buffered(receiver) == 0, "seed \(seed)")
        }
    }

    @Test("random bytes never crash a receiver nor grow its buffer past the limit", arguments: Parser.allCases)
    func randomGarbage(parser: Parser) {
        for seed in Self.seeds {
            var generator = SplitMix64(seed: seed &* 7919)
            let receiver = parser.make()
            let garbage = generator.bytes(3000)
            var largest = 0
            for chunk in randomChunks(of: garbage, maxSize: 100, using: &generator) {
                receiver.dataReceived(chunk)
                largest = max(largest, parser.buffered(receiver))
            }
            #expect(largest <= parser.bound, "seed \(seed)")
        }
    }

    @Test("one corrupted byte never loses the messages that ended before it", arguments: Parser.allCases)
    func corruption(parser: Parser) {
        for seed in Self.seeds {
            var generator = SplitMix64(seed: seed &+ 1_000_003)
            let messages = (0..<20).map { _ in parser.randomMessage(using: &generator) }
            let frames = messages.map(parser.frame)
            var stream = frames.flatMap { $0 }
            let position = Int.random(in: 0..<stream.count, using: &generator)
            stream[position] ^= UInt8.random(in: 1...255, using: &generator)
            // The messages whose frame ends before the corrupted byte.
            var end = 0
            let intact = frames.prefix { frame in
                end += frame.count
                return end <= position
            }.count
            let receiver = parser.make()
            var largest = 0
            for chunk in randomChunks(of: stream, maxSize: 50, using: &generator) {
                receiver.dataReceived(chunk)
                largest = max(largest, parser.buffered(receiver))
            }
            let delivered = parser.delivered(receiver)
            #expect(Array(delivered.prefix(intact)) == Array(messages.prefix(intact)), "seed \(seed)")
            #expect(largest <= parser.bound, "seed \(seed)")
        }
    }
}
