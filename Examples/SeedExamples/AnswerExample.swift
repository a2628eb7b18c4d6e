import TorsionProtocols

/// The `Answer` line receiver of seed 000 ("Helper Protocols"): it answers
/// `How are you?` with `Fine` and any other line with `I don't know what
/// you mean`.
public enum AnswerExample {
    /// The seed's `Answer`: one reply line per received line, CRLF
    /// terminated, the delimiter never part of the line. Reactor thread
    /// only.
    public final class Answer: LineReceiver {
        /// The seed's `answers[None]`: the reply to an unknown line.
        public static let unknownAnswer = "I don't know what you mean"

        /// Replies by exact line; the seed's table by default.
        public var answers: [String: String] = ["How are you?": "Fine"]

        /// Makes the protocol.
        public override init() {}

        /// Sends the answer for `line`, or ``unknownAnswer``.
        public override func lineReceived(_ line: [UInt8]) {
            let question = String(decoding: line, as: UTF8.self)
            sendLine(answers[question] ?? Self.unknownAnswer)
        }
    }
}
