import SeedExamples
import Testing
import TorsionCore
import TorsionProtocols
import TorsionTesting

@Suite("Seed 000: makeQOTDFactory")
struct QOTDExampleTests {
    @Test("makeQOTDFactory(quote:) serves the given quote, CRLF, then closes")
    func configuredQuote() throws {
        let (_, transport) = try connect(QOTDExample.makeQOTDFactory(quote: "configurable quote"), as: QOTD.self)
        #expect(transport.valueString == "configurable quote\r\n")
        #expect(transport.disconnecting)
    }

    @Test("makeQOTDFactory() serves the apple quote")
    func defaultQuote() throws {
        let (_, transport) = try connect(QOTDExample.makeQOTDFactory(), as: QOTD.self)
        #expect(transport.valueString == "An apple a day keeps the doctor away\r\n")
    }
}
