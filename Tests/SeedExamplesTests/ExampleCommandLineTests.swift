import SeedExamples
import Testing

@Suite("The seed programs' arguments")
struct ExampleCommandLineTests {
    @Test("A port is a whole number from 0 to 65535; anything else is a usage error naming it")
    func ports() throws {
        #expect(try ExampleCommandLine.parsePort("0") == 0)
        #expect(try ExampleCommandLine.parsePort("8001") == 8001)
        #expect(try ExampleCommandLine.parsePort("65535") == 65535)
        for bad in ["-1", "65536", "80a", "", "http"] {
            #expect(throws: ExampleCommandLine.UsageError.self) { try ExampleCommandLine.parsePort(bad) }
        }
        #expect(
            throws: ExampleCommandLine.UsageError("invalid port \"x\": expected a number from 0 to 65535")
        ) { try ExampleCommandLine.parsePort("x") }
    }

    @Test("A limit is a whole number of at least 1")
    func limits() throws {
        #expect(try ExampleCommandLine.parseLimit("1") == 1)
        #expect(try ExampleCommandLine.parseLimit("100") == 100)
        for bad in ["0", "-3", "many"] {
            #expect(throws: ExampleCommandLine.UsageError.self) { try ExampleCommandLine.parseLimit(bad) }
        }
    }

    @Test("finger-server's user table comes from NAME=STATUS arguments, or the tutorial's when there are none")
    func fingerUsers() throws {
        #expect(try FingerExample.users(from: []) == ["moshez": "Happy and well"])
        #expect(try FingerExample.users(from: ["ann=busy", "bob=a=b", "ann=away"]) == ["ann": "away", "bob": "a=b"])
        #expect(throws: FingerExample.InvalidUserEntryError.self) { try FingerExample.users(from: ["ann"]) }
    }
}
