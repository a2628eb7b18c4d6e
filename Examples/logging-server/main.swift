// Seed 000, "Factories": appends every received line to a log file that the
// factory opens in startFactory and closes in stopFactory.
import SeedExamples

ExampleCommandLine.serve(
    "logging-server", usage: "[PORT] [LOG_FILE]", defaultPort: LoggingExample.defaultPort, maxExtra: 1
) { reactor, port, extra in
    try LoggingExample.runServer(
        reactor: reactor, port: port, fileName: extra.first ?? LoggingExample.defaultFileName)
}
