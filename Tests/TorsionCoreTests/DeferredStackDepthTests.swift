import Testing
import TorsionCore

/// Deep chains must use constant native stack, both while results travel
/// through them and when they are released (Twisted's test_boundedStackDepth,
/// taken to 100,000 levels).
@Suite("Deferred stack depth")
struct DeferredStackDepthTests {
    static let depth = 100_000

    /// A tower of `depth` Deferreds in which the callback of each returns the
    /// next one, plus the last Deferred the deepest callback returns.
    struct Tower {
        let top = Deferred<Int>()
        let inners: [Deferred<Int>]
        let last = Deferred<Int>()

        init(depth: Int) {
            inners = (0..<depth).map { _ in Deferred<Int>() }
            let inners = inners
            top.addCallback { _ in inners[0] }
            for index in 0..<(depth - 1) {
                inners[index].addCallback { _ in inners[index + 1] }
            }
            let last = last
            inners[depth - 1].addCallback { _ in last }
        }
    }

    @Test("a result travels back through 100,000 waiting Deferreds, and they are all released")
    func unfiredInnersTopDown() throws {
        weak var weakTopChainOwner: Box?
        var seen: [Int] = []
        do {
            let tower = Tower(depth: Self.depth)
            let owner = Box()
            weakTopChainOwner = owner
            tower.top.addCallback { value in
                _ = owner; seen.append(value)
            }
            try tower.top.callback(0)
            for (index, inner) in tower.inners.enumerated() {
                try inner.callback(index)
                #expect(inner.paused || index % 10_000 != 0)
            }
            #expect(seen.isEmpty)
            try tower.last.callback(7)
        }
        #expect(seen == [7])
        #expect(weakTopChainOwner == nil)
    }

    @Test("100,000 nested Deferreds each returning an already-fired one resolve with constant stack")
    func firedInnersBottomUp() throws {
        var seen: [Int] = []
        do {
            let tower = Tower(depth: Self.depth)
            tower.top.addCallback { seen.append($0) }
            try tower.last.callback(7)
            for inner in tower.inners.reversed() {
                try inner.callback(-1)
            }
            #expect(seen.isEmpty)
            try tower.top.callback(0)
        }
        #expect(seen == [7])
    }

    @Test("100,000 callbacks on one chain, each returning an already-fired Deferred")
    func flatChainOfFiredDeferreds() throws {
        let top = Deferred<Int>()
        var chain = top
        for index in 0..<Self.depth {
            chain = chain.addCallback { value in succeed(value + index) }
        }
        try top.callback(0)
        #expect(successResult(of: chain) == (0..<Self.depth).reduce(0, +))
    }

    @Test("releasing 100,000 Deferreds that still wait on each other does not overflow the stack")
    func releaseWaitingTower() throws {
        weak var weakOwner: Box?
        var ran = false
        do {
            let last = Self.waitingTower(depth: Self.depth) { owner in
                weakOwner = owner
            } onResult: {
                ran = true
            }
            #expect(weakOwner != nil)
            _ = last.called
        }
        #expect(weakOwner == nil)
        #expect(!ran)
    }

    /// Builds a tower, fires everything but its last Deferred, and returns
    /// only that last one: it then owns the whole tower through the
    /// continuation links.
    private static func waitingTower(
        depth: Int, owner register: (Box) -> Void, onResult: @escaping () -> Void
    ) -> Deferred<Int> {
        let tower = Tower(depth: depth)
        let owner = Box()
        register(owner)
        tower.top.addCallback { _ in
            _ = owner; onResult()
        }
        try? tower.top.callback(0)
        for inner in tower.inners { try? inner.callback(0) }
        return tower.last
    }

    @Test("releasing an unfired Deferred whose callbacks capture 100,000 nested unfired Deferreds")
    func releaseCapturedTower() throws {
        weak var weakOwner: Box?
        do {
            let owner = Box()
            weakOwner = owner
            let head = Deferred<Int>()
            var current = head
            for _ in 0..<Self.depth {
                let next = Deferred<Int>()
                current.addCallback { _ in next }
                current = next
            }
            current.addCallback { _ in _ = owner }
        }
        #expect(weakOwner == nil)
    }
}

/// A reference whose release the tests observe through a weak variable.
final class Box {}
