import Glibc
import ReactorTestSupport
import Testing
import TorsionEngine
import TorsionLibevent

/// Runs `body` with a fresh poller and closes it afterwards.
private func withPoller(_ body: (LibeventPoller) throws -> Void) throws {
    let poller = try LibeventPoller()
    defer { poller.close() }
    try body(poller)
}

/// One wait that returns at once, with what was ready.
private func poll(_ poller: LibeventPoller) throws -> [PollerEvent] {
    var events: [PollerEvent] = []
    try poller.wait(timeout: 0, into: &events)
    return events
}

@Suite("LibeventPoller")
struct LibeventPollerTests {
    @Test("the event base is created on epoll, so the backend reports itself available")
    func method() throws {
        #expect(LibeventPoller.unavailableReason == nil)
        try withPoller { poller in #expect(poller.method == "epoll") }
    }

    @Test("a readable fd is reported with its fd and generation, again on every wait while it stays ready")
    func readable() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        try withPoller { poller in
            try poller.register(pipe.readEnd, generation: 7, interest: .read)
            #expect(try poll(poller).isEmpty)
            pipe.fill()
            let expected = [PollerEvent(fileDescriptor: pipe.readEnd, generation: 7, ready: .read)]
            #expect(try poll(poller) == expected)
            #expect(try poll(poller) == expected)
        }
    }

    @Test("an fd ready for reading and writing is one report with both, not two")
    func merged() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { pair.forEach { _ = Glibc.close($0) } }
        _ = write(pair[1], "x", 1)
        try withPoller { poller in
            try poller.register(pair[0], generation: 3, interest: [.read, .write])
            #expect(try poll(poller) == [PollerEvent(fileDescriptor: pair[0], generation: 3, ready: [.read, .write])])
        }
    }

    @Test("modify changes the interest and the generation reported; unregister stops the reports")
    func modifyAndUnregister() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        try withPoller { poller in
            try poller.register(pipe.writeEnd, generation: 1, interest: .write)
            #expect(try poll(poller) == [PollerEvent(fileDescriptor: pipe.writeEnd, generation: 1, ready: .write)])
            // A pipe's write end never becomes readable: nothing to report.
            try poller.modify(pipe.writeEnd, generation: 1, interest: .read)
            #expect(try poll(poller).isEmpty)
            try poller.modify(pipe.writeEnd, generation: 2, interest: [.read, .write])
            #expect(try poll(poller) == [PollerEvent(fileDescriptor: pipe.writeEnd, generation: 2, ready: .write)])
            try poller.unregister(pipe.writeEnd)
            #expect(try poll(poller).isEmpty)
            // Registering the same fd again works once it was unregistered.
            try poller.register(pipe.writeEnd, generation: 5, interest: .write)
            #expect(try poll(poller) == [PollerEvent(fileDescriptor: pipe.writeEnd, generation: 5, ready: .write)])
        }
    }

    @Test("a hang-up makes the read end readable (the reader then meets end of file)")
    func hangUp() throws {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer { Glibc.close(fds[0]) }
        try withPoller { poller in
            try poller.register(fds[0], generation: 9, interest: .read)
            Glibc.close(fds[1])
            #expect(try poll(poller) == [PollerEvent(fileDescriptor: fds[0], generation: 9, ready: .read)])
        }
    }

    @Test("a wait with a timeout and nothing ready returns with no events (the timer bounds it)")
    func timeoutBoundsTheWait() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        try withPoller { poller in
            try poller.register(pipe.readEnd, generation: 1, interest: .read)
            var events: [PollerEvent] = [PollerEvent(fileDescriptor: 0, generation: 0, ready: .read)]
            try poller.wait(timeout: 0.001, into: &events)
            #expect(events.isEmpty)
            // The timer is re-armed per wait: a second bounded wait returns too.
            try poller.wait(timeout: 0.001, into: &events)
            #expect(events.isEmpty)
            // Data that arrives is reported even when a timer bound is set.
            pipe.fill()
            try poller.wait(timeout: 60, into: &events)
            #expect(events == [PollerEvent(fileDescriptor: pipe.readEnd, generation: 1, ready: .read)])
        }
    }

    @Test("refusing an fd (epoll takes no regular files) is a SystemError and leaves nothing registered")
    func refused() throws {
        let fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { Glibc.close(fd) }
        try withPoller { poller in
            #expect(throws: SystemError.self) { try poller.register(fd, generation: 1, interest: .read) }
            // Nothing was kept: a second register is refused by the kernel
            // again, not by the poller's registered-twice check.
            #expect(throws: SystemError.self) { try poller.register(fd, generation: 2, interest: .read) }
            let events = try poll(poller)
            #expect(events.isEmpty)
        }
    }
}
