import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Writes `text` to a test-owned descriptor.
private func send(_ text: String, to fd: Int32) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
}

@Suite("Engine receive and send on every backend")
struct ReadinessEngineStreamTests {
    @Test(
        "a descriptor closed and reused in the same turn never gets its previous owner's receive",
        arguments: Backend.available)
    func reusedDescriptorGetsNoStaleCompletion(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let engine = reactor.engine
        let (first, firstPeer) = try makeSocketPair()
        let (second, secondPeer) = try makeSocketPair()
        let (replacement, replacementPeer) = try makeSocketPair()
        defer { [firstPeer, secondPeer, replacementPeer].forEach { close($0) } }
        var log: [String] = []
        // Whichever of the two is dispatched first closes the other and
        // puts a new socket under its number, receiving again: the old
        // registration's readiness, still in the batch, must be dropped.
        var reused: Int32 = -1
        func closeAndReuse(_ victim: Int32) {
            engine.unwatch(victim)
            // dup2 closes the victim and puts the replacement under its
            // number in one step. A separate close first would free the
            // number for a test running in parallel to take (dup2 then
            // fails with EBUSY, or closes that test's descriptor).
            #expect(dup2(replacement, victim) == victim)
            reused = victim
            try? engine.receive(victim) { result in
                if case .data(let bytes) = result { log.append("new:" + String(decoding: bytes, as: UTF8.self)) }
            }
        }
        for (fd, name) in [(first, "first"), (second, "second")] {
            try engine.receive(fd) { result in
                guard case .data(let bytes) = result else { return }
                log.append("\(name):" + String(decoding: bytes, as: UTF8.self))
                if reused == -1 { closeAndReuse(fd == first ? second : first) }
            }
        }
        send("a", to: firstPeer)
        send("b", to: secondPeer)
        // The replacement is readable too: a stale event handed to its new
        // registration would deliver "c" in this same turn.
        send("c", to: replacementPeer)
        reactor.iterate(delay: 1)
        #expect(log.count == 1)
        #expect(reused != -1)
        iterate(reactor) { log.count == 2 }
        #expect(log.last == "new:c")
        engine.unwatch(first)
        engine.unwatch(second)
        close(first)
        close(second)
        close(replacement)
        #expect(engine.watchedCount == 0)
    }

    @Test(
        "a send that fills the socket completes later with every byte, in order (batch and single buffer)",
        arguments: Backend.available, [false, true])
    func sendCompletesLater(backend: Backend, singleBuffer: Bool) throws {
        let reactor = try Reactor(backend: backend)
        let engine = reactor.engine
        let (writer, reader) = try makeSocketPair()
        defer {
            close(writer)
            close(reader)
        }
        let data = patternBytes(2 << 20)
        var completed: Int?
        let completion: (SendResult) -> Void = { result in
            if case .sent(let count) = result { completed = count }
        }
        let immediate =
            singleBuffer
            ? engine.send(writer, bytes: data, completion: completion)
            : engine.send(writer, buffers: [Array(data[..<4]), Array(data[4...])], completion: completion)
        #expect(immediate == nil)
        // A readiness engine waits for writability; io_uring has the send
        // itself in flight and watches nothing.
        #expect(engine.watchedCount == (backend == .io_uring ? 0 : 1))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        iterate(reactor) {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                received += buffer[..<count]
            }
            return completed != nil && received.count == data.count
        }
        #expect(completed == data.count)
        #expect(received == data)
        #expect(engine.watchedCount == 0)
    }

    @Test(
        "a send that the socket takes whole finishes at once on a readiness engine and keeps nothing",
        arguments: Backend.available)
    func singleBufferSendFinishesAtOnce(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let engine = reactor.engine
        let (writer, reader) = try makeSocketPair()
        defer {
            close(writer)
            close(reader)
        }
        var completion: SendResult?
        let immediate = engine.send(writer, bytes: [1, 2, 3]) { completion = $0 }
        if backend == .io_uring {
            // The send is in flight until its CQE.
            #expect(immediate == nil)
            iterate(reactor) { completion != nil }
        } else {
            // Finished at once: nothing registered, the completion never called.
            #expect(engine.watchedCount == 0)
            #expect(completion == nil)
        }
        guard case .sent(3) = immediate ?? completion else {
            Issue.record("expected .sent(3), got \(String(describing: immediate ?? completion))")
            return
        }
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(read(reader, &buffer, 8) == 3)
        #expect(buffer[..<3] == [1, 2, 3])
    }

    @Test(
        "a send to a peer that went away fails with EPIPE instead of raising SIGPIPE (batch and single buffer)",
        arguments: Backend.available, [false, true])
    func sendToClosedPeer(backend: Backend, singleBuffer: Bool) throws {
        let reactor = try Reactor(backend: backend)
        let (writer, reader) = try makeSocketPair()
        defer { close(writer) }
        close(reader)
        // A readiness engine fails at once; io_uring reports the send's
        // CQE from a later turn.
        var completion: SendResult?
        var result =
            singleBuffer
            ? reactor.engine.send(writer, bytes: [1, 2, 3]) { completion = $0 }
            : reactor.engine.send(writer, buffers: [[1, 2, 3]]) { completion = $0 }
        if result == nil {
            iterate(reactor) { completion != nil }
            result = completion
        }
        guard case .failed(let error) = result else {
            Issue.record("expected a failure, got \(String(describing: result))")
            return
        }
        #expect((error as? SystemError)?.errno == EPIPE)
        #expect(reactor.engine.watchedCount == 0)
    }
}
