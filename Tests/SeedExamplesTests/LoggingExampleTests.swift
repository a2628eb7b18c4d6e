import Foundation
import SeedExamples
import Testing
import TorsionCore
import TorsionTesting

/// A log sink in memory, recording closes.
final class MemoryLog: LoggingExample.LogFile {
    var bytes: [UInt8] = []
    var closed = false
    var failWrites = false

    func write(_ bytes: [UInt8]) throws {
        if failWrites { throw LoggingExample.LogFileError(path: "memory", operation: "write", reason: "full") }
        self.bytes += bytes
    }

    func close() { closed = true }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

@Suite("Seed 000: LoggingProtocol and LogfileFactory")
struct LoggingExampleTests {
    @Test("startFactory opens the log, lines are appended with \\n, stopFactory closes it")
    func lifecycle() throws {
        let log = MemoryLog()
        var opens = 0
        let factory = LoggingExample.LogfileFactory(open: {
            opens += 1
            return log
        })
        #expect(factory.fp == nil)
        factory.doStart()
        factory.doStart()
        #expect(opens == 1)

        let (logger, transport) = try connect(factory, as: LoggingExample.LoggingProtocol.self)
        logger.receive("first\r\nsec")
        logger.receive("ond\r\n")
        #expect(log.text == "first\nsecond\n")
        #expect(transport.value().isEmpty)

        factory.doStop()
        #expect(!log.closed)
        factory.doStop()
        #expect(log.closed)
        #expect(factory.fp == nil)
        logger.receive("after stop\r\n")
        #expect(log.text == "first\nsecond\n")
    }

    @Test("Open and write failures are kept in lastError")
    func failures() throws {
        struct Refused: Error {}
        let refusing = LoggingExample.LogfileFactory(open: { throw Refused() })
        refusing.doStart()
        #expect(refusing.lastError?.check(Refused.self) != nil)

        let log = MemoryLog()
        log.failWrites = true
        let factory = LoggingExample.LogfileFactory(open: { log })
        factory.doStart()
        let (logger, _) = try connect(factory, as: LoggingExample.LoggingProtocol.self)
        logger.receive("lost\r\n")
        #expect(factory.lastError?.check(LoggingExample.LogFileError.self) != nil)
    }

    @Test("LogfileFactory(fileName:) appends to the file across factory runs")
    func appendsToFile() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("torsion-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for word in ["one", "two"] {
            let factory = LoggingExample.LogfileFactory(fileName: path)
            factory.doStart()
            let (logger, _) = try connect(factory, as: LoggingExample.LoggingProtocol.self)
            logger.receive("\(word)\r\n")
            factory.doStop()
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\n")
    }

    @Test("A file that cannot be opened gives a LogFileError naming it")
    func unopenableFile() throws {
        let path = "/nonexistent-directory-for-torsion/log.txt"
        #expect(throws: LoggingExample.LogFileError.self) { try LoggingExample.AppendingFile(path: path) }
        let factory = LoggingExample.LogfileFactory(fileName: path)
        factory.doStart()
        let error = try #require(factory.lastError?.error as? LoggingExample.LogFileError)
        #expect(error.path == path)
        #expect(error.description.hasPrefix("cannot open log file \(path): "))
    }

    @Test("Writing to a closed AppendingFile throws")
    func writeAfterClose() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("torsion-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try LoggingExample.AppendingFile(path: path)
        file.close()
        file.close()
        #expect(throws: LoggingExample.LogFileError.self) { try file.write([0x41]) }
    }
}
