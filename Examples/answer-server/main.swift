// Seed 000, "Helper Protocols": a LineReceiver answering "How are you?"
// with "Fine" and any other line with "I don't know what you mean".
import SeedExamples

ExampleCommandLine.serve("answer-server", defaultPort: AnswerExample.defaultPort) { reactor, port, _ in
    try AnswerExample.runServer(reactor: reactor, port: port)
}
