import TorsionCore

extension SplitMix64 {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

/// How a byte stream is cut into `dataReceived` calls.
enum Chunking: CustomStringConvertible, CaseIterable {
    /// One call with everything.
    case whole
    /// One call per byte.
    case byteByByte
    /// Random cuts from a fixed seed (sizes 1 to 64).
    case random

    /// The three ways, for parameterised tests.
    static let allCases: [Chunking] = [.whole, .byteByByte, .random]

    var description: String {
        switch self {
        case .whole: "in one piece"
        case .byteByByte: "one byte at a time"
        case .random: "in random pieces"
        }
    }

    /// `data` cut this way.
    func chunks(of data: [UInt8]) -> [[UInt8]] {
        switch self {
        case .whole:
            return [data]
        case .byteByByte:
            return data.map { [$0] }
        case .random:
            var generator = SplitMix64(seed: 0x5EED)
            return randomChunks(of: data, maxSize: 64, using: &generator)
        }
    }
}

/// `data` cut at random places into pieces of 1 to `maxSize` bytes.
func randomChunks(of data: [UInt8], maxSize: Int, using generator: inout SplitMix64) -> [[UInt8]] {
    var chunks: [[UInt8]] = []
    var start = 0
    while start < data.count {
        let end = min(data.count, start + Int.random(in: 1...maxSize, using: &generator))
        chunks.append(Array(data[start..<end]))
        start = end
    }
    return chunks
}

extension Protocol {
    /// Feeds `data` to `dataReceived`, cut as `chunking` says.
    func receive(_ data: [UInt8], _ chunking: Chunking) {
        for chunk in chunking.chunks(of: data) { dataReceived(chunk) }
    }

    /// Feeds the UTF-8 bytes of `text` in one call.
    func receive(_ text: String) {
        dataReceived(Array(text.utf8))
    }
}

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Decodes UTF-8 lines for readable expectations.
func strings(_ messages: [[UInt8]]) -> [String] {
    messages.map { String(decoding: $0, as: UTF8.self) }
}
