import Testing
import TorsionCore

/// `DeferredQueue` (Twisted's testQueue and its cancellation tests).
@Suite("DeferredQueue")
struct DeferredQueueTests {
    @Test("gets wait for puts in order; the backlog and size bounds throw their named errors")
    func queueBounds() throws {
        let queue = DeferredQueue<Int>(size: 2, backlog: 2)
        var gotten: [Int] = []
        for _ in 0..<2 { try queue.get().addCallback { gotten.append($0) } }
        #expect(throws: QueueUnderflow.self) { try queue.get() }
        #expect(queue.waitingCount == 2)
        for index in 0..<2 {
            try queue.put(index)
            #expect(gotten == Array(0...index))
        }
        for index in 0..<2 {
            try queue.put(2 + index)
            #expect(gotten == [0, 1])
        }
        #expect(queue.pendingCount == 2)
        #expect(throws: QueueOverflow.self) { try queue.put(99) }
        #expect(queue.pendingCount == 2)
        gotten = []
        for index in 0..<2 {
            try queue.get().addCallback { gotten.append($0) }
            #expect(gotten == Array(2...(2 + index)))
        }
        #expect(queue.pendingCount == 0)
    }

    @Test("an unbounded queue serves waiting gets in order")
    func unbounded() throws {
        let queue = DeferredQueue<Int>()
        var gotten: [Int] = []
        for _ in 0..<3 { try queue.get().addCallback { gotten.append($0) } }
        for index in 0..<3 { try queue.put(index) }
        #expect(gotten == [0, 1, 2])
        #expect(queue.size == nil)
        #expect(queue.backlog == nil)
    }

    @Test("size 0 refuses every put nobody waits for; backlog 0 refuses every get of an empty queue")
    func zeroBounds() throws {
        #expect(throws: QueueOverflow.self) { try DeferredQueue<Int>(size: 0).put(1) }
        #expect(throws: QueueUnderflow.self) { try DeferredQueue<Int>(backlog: 0).get() }
        let handOff = DeferredQueue<Int>(size: 0)
        var gotten: [Int] = []
        try handOff.get().addCallback { gotten.append($0) }
        try handOff.put(5)
        #expect(gotten == [5])
    }

    @Test("a negative bound refuses like 0")
    func negativeBounds() throws {
        #expect(throws: QueueOverflow.self) { try DeferredQueue<Int>(size: -1).put(1) }
        #expect(throws: QueueUnderflow.self) { try DeferredQueue<Int>(backlog: -1).get() }
    }

    @Test("cancelling a get that already has its item does nothing")
    func cancelAfterSynchronousGet() throws {
        let queue = DeferredQueue<Int>()
        let got = try queue.get()
        var errbacks = 0
        got.addErrback { _ in
            errbacks += 1; return 0
        }
        try queue.put(1)
        got.cancel()
        #expect(errbacks == 0)
        #expect(successResult(of: got) == 1)
    }

    @Test("cancelling a waiting get withdraws it: CancelledError, and the next put is queued for others")
    func cancelWaitingGet() throws {
        let queue = DeferredQueue<Int>()
        let got = try queue.get()
        got.cancel()
        #expect(queue.waitingCount == 0)
        var done: [Int] = []
        got.addErrback { _ in
            try queue.put(7)
            return try queue.get()
        }.addCallback { done.append($0) }
        #expect(done == [7])
        #expect(queue.pendingCount == 0)
    }

    @Test("a cancelled get frees its backlog slot")
    func cancelFreesBacklog() throws {
        let queue = DeferredQueue<Int>(backlog: 1)
        let first = try queue.get()
        #expect(throws: QueueUnderflow.self) { try queue.get() }
        first.cancel()
        _ = failureResult(of: first)
        var gotten: [Int] = []
        try queue.get().addCallback { gotten.append($0) }
        try queue.put(3)
        #expect(gotten == [3])
    }

    @Test("a get fired by someone else is skipped by put instead of swallowing the item")
    func misfiredGetSkipped() throws {
        let queue = DeferredQueue<Int>()
        let misfired = try queue.get()
        try misfired.callback(0)
        try queue.put(1)
        #expect(queue.pendingCount == 1)
        #expect(successResult(of: try queue.get()) == 1)
    }

    @Test("a get whose callback puts and gets again sees a consistent queue")
    func reentrantPutAndGet() throws {
        let queue = DeferredQueue<String>()
        var events: [String] = []
        try queue.get().addCallback { item in
            events.append("got \(item)")
            try queue.put("inner")
            try queue.get().addCallback { events.append("got \($0)") }
        }
        try queue.put("outer")
        #expect(events == ["got outer", "got inner"])
        #expect(queue.pendingCount == 0)
        #expect(queue.waitingCount == 0)
    }
}
