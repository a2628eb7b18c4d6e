import Testing
import TorsionCore

/// `race(_:)` (Twisted's RaceTests).
@Suite("race")
struct DeferredRaceTests {
    /// Deferreds whose cancellers only count, and the counts.
    final class Racers {
        var cancelled: [Int]
        var deferreds: [Deferred<String>] = []

        init(count: Int) {
            cancelled = Array(repeating: 0, count: count)
            for index in 0..<count {
                deferreds.append(Deferred(canceller: { [unowned self] _ in cancelled[index] += 1 }))
            }
        }
    }

    static let shapes = [(0, 0), (0, 3), (3, 0), (1, 2), (2, 1), (3, 3)]

    @Test(
        "the first success wins with its index and value; every other Deferred is cancelled once",
        arguments: shapes)
    func success(beforeWinner: Int, afterWinner: Int) throws {
        let racers = Racers(count: beforeWinner + 1 + afterWinner)
        let result = race(racers.deferreds)
        try racers.deferreds[beforeWinner].callback("expected")
        let winner = try #require(successResult(of: result))
        #expect(winner.index == beforeWinner)
        #expect(winner.value == "expected")
        #expect(
            racers.cancelled == Array(repeating: 1, count: beforeWinner) + [0] + Array(repeating: 1, count: afterWinner)
        )
    }

    @Test(
        "when all fail, race fails with a FailureGroup of their failures in list order",
        arguments: shapes)
    func allFail(beforeWinner: Int, afterWinner: Int) throws {
        let count = beforeWinner + 1 + afterWinner
        let racers = Racers(count: count)
        let result = race(racers.deferreds)
        for index in (0..<count).reversed() {
            try racers.deferreds[index].errback(TestError("failure \(index)"))
        }
        let group = try #require(failureResult(of: result)?.error(as: FailureGroup.self))
        #expect(group.failures.map(\.errorMessage) == (0..<count).map { "failure \($0)" })
        #expect(racers.cancelled == Array(repeating: 0, count: count))
    }

    @Test("a loser firing after being cancelled goes nowhere: no error, its chain holds ()")
    func resultAfterCancel() throws {
        let deferreds = (0..<4).map { _ in Deferred<Void>() }
        let result = race(deferreds)
        try deferreds[1].callback()
        try deferreds[2].callback()
        #expect(successResult(of: result)?.index == 1)
        for loser in [0, 2, 3] {
            #expect(successResult(of: deferreds[loser]) != nil)
        }
    }

    @Test("a loser whose canceller succeeds does not replace the winner")
    func resultFromCancel() throws {
        let winner = Deferred<String>()
        let loser = Deferred<String>(canceller: { try? $0.callback("from canceller") })
        let result = race([winner, loser])
        try winner.callback("expected")
        let outcome = try #require(successResult(of: result))
        #expect(outcome.index == 0)
        #expect(outcome.value == "expected")
    }

    @Test("cancelling the race cancels every Deferred and fails with a FailureGroup", arguments: [1, 2, 3])
    func cancelRace(count: Int) throws {
        let racers = Racers(count: count)
        let result = race(racers.deferreds)
        result.cancel()
        #expect(racers.cancelled == Array(repeating: 1, count: count))
        let group = try #require(failureResult(of: result)?.error(as: FailureGroup.self))
        #expect(group.failures.count == count)
        #expect(group.failures.allSatisfy { $0.check(CancelledError.self) != nil })
    }

    @Test("an already-fired Deferred wins at once and the rest are cancelled")
    func alreadyFiredWinner() throws {
        let racers = Racers(count: 2)
        let result = race([racers.deferreds[0], succeed("early"), racers.deferreds[1]])
        let outcome = try #require(successResult(of: result))
        #expect(outcome.index == 1)
        #expect(outcome.value == "early")
        #expect(racers.cancelled == [1, 1])
    }

    @Test("racing nothing never fires until cancelled")
    func emptyRace() throws {
        let result = race([Deferred<Int>]())
        #expect(hasNoResult(result))
        result.cancel()
        #expect(isCancelled(result))
    }

    @Test("once the race fired, a paused loser and the race result do not keep each other alive")
    func noCycleAfterWin() throws {
        weak var weakBox: Box?
        // The paused loser is released holding its CancelledError, which is
        // then reported as unhandled: capture it rather than print it.
        LogCapture.withRecorder { _ in
            do {
                let box = Box()
                weakBox = box
                let winner = Deferred<Box>()
                let loser = Deferred<Box>()
                loser.pause()
                let result = race([winner, loser])
                try? winner.callback(box)
                #expect(successResult(of: result)?.value === box)
            }
        }
        #expect(weakBox == nil)
    }
}
