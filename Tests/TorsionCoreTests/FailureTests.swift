import Testing
import TorsionCore

private struct Boom: Error {}
private struct Other: Error {}

@Suite("Failure")
struct FailureTests {
    @Test("wrapping a Failure does not nest it")
    func noDoubleWrap() {
        let failure = Failure(Failure(Boom()))
        #expect(failure.error is Boom)
    }

    @Test("check returns the first matching type or nil")
    func check() {
        let failure = Failure(Boom())
        #expect(failure.check(Other.self, Boom.self) == Boom.self)
        #expect(failure.check(Other.self) == nil)
    }

    @Test("trap rethrows the failure when nothing matches")
    func trap() throws {
        let failure = Failure(Boom())
        #expect(try failure.trap(Boom.self) == Boom.self)
        #expect(throws: Failure.self) { try failure.trap(Other.self) }
    }

    @Test("errorMessage of a message failure is the message")
    func message() {
        #expect(Failure(message: "too long").errorMessage == "too long")
        #expect(Failure(ConnectionDone()).errorMessage.hasPrefix("ConnectionDone"))
    }
}
