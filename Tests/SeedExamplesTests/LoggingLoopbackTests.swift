import Glibc
import SeedExamples
import Testing
import TorsionCore
import TorsionPosix

@Suite("logging-server over loopback TCP")
struct LoggingLoopbackTests {
    /// An ``LoggingExample/AppendingFile`` that tells the test after each
    /// write, so the test knows when the server has logged a line.
    final class ObservedFile: LoggingExample.LogFile {
        let file: LoggingExample.AppendingFile
        let onWrite: () -> Void

        init(path: String, onWrite: @escaping () -> Void) throws {
            file = try LoggingExample.AppendingFile(path: path)
            self.onWrite = onWrite
        }

        func write(_ bytes: [UInt8]) throws {
            try file.write(bytes)
            onWrite()
        }

        func close() { file.close() }
    }

    /// A new empty directory for the test's log file, removed by `body`'s
    /// caller afterwards.
    func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        var template = Array("/tmp/torsion-logging-XXXXXX".utf8CString)
        let directory = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
        let path = String(cString: directory)
        defer { rmdir(path) }
        try body(path)
    }

    /// The whole content of the file at `path`.
    func contents(of path: String) throws -> String {
        let file = try #require(fopen(path, "r"))
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4096, file) }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("Each received line is appended to the log; the port opens it at start and closes it at stop")
    func logsLines() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/server.log"
            defer { unlink(path) }
            let reactor = try makeLoopbackReactor()
            var listening: (any ListeningPort)?
            var writes = 0
            let factory = LoggingExample.LogfileFactory(open: {
                try ObservedFile(path: path) {
                    writes += 1
                    if writes == 2, let listening { stopListeningAndReactor(listening, reactor) }
                }
            })
            #expect(factory.fp == nil)
            let port = try LoggingExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1", factory: factory)
            listening = port
            #expect(factory.fp != nil)
            let client = RecordingClient()
            client.onConnect = { client in
                client.transport?.write("first line\r\nsecond line\r\n")
                client.transport?.loseConnection()
            }
            reactor.connectLoopback(client, port: try boundPort(port))
            try runCheckingLeaks(reactor)

            #expect(try contents(of: path) == "first line\nsecond line\n")
            #expect(factory.fp == nil)
            #expect(factory.numPorts == 0)
            #expect(factory.lastError == nil)
        }
    }

    @Test("A log file that cannot be opened is an error, and the server does not keep listening")
    func unopenableLog() throws {
        try withTemporaryDirectory { directory in
            let reactor = try makeLoopbackReactor()
            let factory = LoggingExample.LogfileFactory(fileName: directory + "/missing/server.log")
            #expect(throws: LoggingExample.LogFileError.self) {
                try LoggingExample.runServer(reactor: reactor, port: 0, interface: "127.0.0.1", factory: factory)
            }
            // The port was stopped again: once the reactor has turned, no
            // port uses the factory.
            _ = reactor.callLater(0) { try? reactor.stop() }
            try runCheckingLeaks(reactor)
            #expect(factory.numPorts == 0)
            #expect(factory.fp == nil)
        }
    }
}
