// Seed 000, "Writing Servers": the QOTD server (RFC 865), and with a QUOTE
// argument the configurable one (`QOTDFactory("configurable quote")`).
import SeedExamples

ExampleCommandLine.serve(
    "qotd-server", usage: "[PORT] [QUOTE]", defaultPort: QOTDExample.defaultPort, maxExtra: 1
) { reactor, port, extra in
    try QOTDExample.runServer(reactor: reactor, port: port, factory: QOTDExample.makeQOTDFactory(quote: extra.first))
}
