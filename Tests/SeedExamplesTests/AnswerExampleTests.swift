import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

@Suite("Seed 000: the Answer line receiver")
struct AnswerExampleTests {
    @Test("How are you? is answered Fine; anything else gets the default answer")
    func answers() {
        let answer = AnswerExample.Answer()
        let transport = StringTransport()
        answer.makeConnection(transport)
        answer.receive("How are you?\r\nWhat?\r\n")
        #expect(transport.valueString == "Fine\r\nI don't know what you mean\r\n")
    }

    @Test("A question split across reads is answered once, when its line ends")
    func splitLine() {
        let answer = AnswerExample.Answer()
        let transport = StringTransport()
        answer.makeConnection(transport)
        for byte in "How are you?\r\n".utf8 {
            answer.dataReceived([byte])
        }
        #expect(transport.valueString == "Fine\r\n")
    }

    @Test("The answers table can be extended per protocol")
    func customAnswers() {
        let answer = AnswerExample.Answer()
        answer.answers["Ping"] = "Pong"
        let transport = StringTransport()
        answer.makeConnection(transport)
        answer.receive("Ping\r\nHow are you?\r\n")
        #expect(transport.valueString == "Pong\r\nFine\r\n")
    }
}
