import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

@Suite("Reactor FDSet: foreign descriptors on every backend")
struct ReactorFDSetTests {
    @Test("a readable pipe is delivered to its reader until removeReader", arguments: Backend.available)
    func readerEvents(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let pipe = try TestPipe()
            defer { pipe.close() }
            let reader = RecordingDescriptor(pipe.readEnd)
            reactor.addReader(reader)
            reactor.addReader(reader)
            #expect(reactor.getReaders().count == 1)
            reactor.iterate(delay: 0)
            #expect(reader.reads == 0)
            pipe.fill()
            reactor.iterate(delay: 0)
            #expect(reader.reads == 1)
            // Level-triggered: still readable, reported again.
            reactor.iterate(delay: 0)
            #expect(reader.reads == 2)
            reactor.removeReader(reader)
            reactor.iterate(delay: 0)
            #expect(reader.reads == 2)
            #expect(reader.lost.isEmpty)
        }
    }

    @Test("a writable pipe is delivered to its writer until removeWriter", arguments: Backend.available)
    func writerEvents(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let pipe = try TestPipe()
            defer { pipe.close() }
            let writer = RecordingDescriptor(pipe.writeEnd)
            reactor.addWriter(writer)
            #expect(reactor.getWriters().count == 1)
            reactor.iterate(delay: 0)
            #expect(writer.writes == 1)
            reactor.removeWriter(writer)
            reactor.iterate(delay: 0)
            #expect(writer.writes == 1)
        }
    }

    @Test(
        "removeAll returns every reader and writer once and stops watching them",
        arguments: Backend.available)
    func removeAllReturnsEverything(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let first = try TestPipe()
            let second = try TestPipe()
            defer {
                first.close()
                second.close()
            }
            first.fill()
            let reader = RecordingDescriptor(first.readEnd)
            let writer = RecordingDescriptor(first.writeEnd)
            let both = RecordingDescriptor(second.writeEnd)
            reactor.addReader(reader)
            reactor.addWriter(writer)
            reactor.addReader(both)
            reactor.addWriter(both)
            #expect(reactor.engine.watchedCount == 3)
            let removed = reactor.removeAll()
            #expect(removed.count == 3)
            for handler in [reader, writer, both] as [any FileDescriptorHandler] {
                #expect(removed.contains { $0 === handler })
            }
            reactor.iterate(delay: 0)
            #expect(reader.reads + writer.writes + both.reads + both.writes == 0)
            #expect(reader.lost.isEmpty && writer.lost.isEmpty && both.lost.isEmpty)
        }
    }

    struct ReadFailed: Error {}

    @Test(
        "a failure returned by doRead removes the descriptor and reaches connectionLost once",
        arguments: Backend.available)
    func doReadFailureDrops(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let pipe = try TestPipe()
            defer { pipe.close() }
            pipe.fill()
            let descriptor = RecordingDescriptor(pipe.readEnd)
            descriptor.onRead = { Failure(ReadFailed()) }
            reactor.addReader(descriptor)
            reactor.iterate(delay: 0)
            reactor.iterate(delay: 0)
            #expect(descriptor.reads == 1)
            #expect(descriptor.lost.count == 1)
            #expect(descriptor.lost.first?.error is ReadFailed)
        }
    }

    @Test("descriptors still watched at shutdown are dropped with connectionLost", arguments: Backend.available)
    func shutdownDropsDescriptors(backend: Backend) throws {
        try withReactor(backend, leavesWorkForShutdown: true) { reactor in
            let pipe = try TestPipe()
            defer { pipe.close() }
            let reader = RecordingDescriptor(pipe.readEnd)
            reactor.callWhenRunning {
                reactor.addReader(reader)
                try? reactor.stop()
            }
            try reactor.run()
            #expect(reader.lost.count == 1)
            #expect(reader.lost.first?.error is ConnectionLost)
        }
    }

    @Test(
        "a closed-and-reused fd number never receives its previous owner's pending event",
        arguments: Backend.available)
    func staleEventsAreDropped(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let first = try TestPipe()
            let second = try TestPipe()
            let replacement = try TestPipe()
            defer {
                Glibc.close(first.writeEnd)
                Glibc.close(second.writeEnd)
                replacement.close()
            }
            first.fill()
            second.fill()
            let readerA = RecordingDescriptor(first.readEnd)
            let readerB = RecordingDescriptor(second.readEnd)
            var newOwner: RecordingDescriptor?
            // Both pipes are ready in the same wait. Whichever handler runs
            // first closes the other's fd, reuses its number for an empty pipe
            // and registers a new reader there: the other's already-collected
            // event must not reach the new owner.
            func takeOver(from other: RecordingDescriptor, by own: RecordingDescriptor) -> () -> Failure? {
                {
                    guard newOwner == nil else { return nil }
                    own.drain()
                    reactor.removeReader(own)
                    reactor.removeReader(other)
                    // dup2 closes the old file and reuses its number in one
                    // step, so no test running in parallel can take the number
                    // in between.
                    let number = other.fileDescriptor
                    #expect(dup2(replacement.readEnd, number) == number)
                    let owner = RecordingDescriptor(number)
                    newOwner = owner
                    reactor.addReader(owner)
                    return nil
                }
            }
            readerA.onRead = takeOver(from: readerB, by: readerA)
            readerB.onRead = takeOver(from: readerA, by: readerB)
            reactor.addReader(readerA)
            reactor.addReader(readerB)
            reactor.iterate(delay: 0)
            #expect(readerA.reads + readerB.reads == 1)
            let owner = try #require(newOwner)
            #expect(owner.reads == 0, "the new owner got the previous owner's event")
            // The new registration is live: real data reaches it.
            replacement.fill()
            reactor.iterate(delay: 0)
            #expect(owner.reads == 1)
            reactor.removeReader(owner)
            Glibc.close(owner.fileDescriptor)
            let survivor = readerA.reads == 1 ? readerA : readerB
            Glibc.close(survivor.fileDescriptor)
        }
    }

    @Test(
        "select refuses an fd at or above FD_SETSIZE with a named error; poll and epoll watch it",
        arguments: Backend.available)
    func highDescriptor(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let pipe = try TestPipe()
            defer { pipe.close() }
            // An fd number above FD_SETSIZE (1024), taken with F_DUPFD so it
            // never replaces a descriptor another test holds.
            let high = fcntl(pipe.readEnd, F_DUPFD_CLOEXEC, 1500)
            try #require(high >= SelectPoller.descriptorLimit)
            defer { Glibc.close(high) }
            pipe.fill()
            let reader = RecordingDescriptor(high)
            reactor.addReader(reader)
            reactor.iterate(delay: 0)
            if backend == .select {
                let error = try #require(reader.lost.first?.error as? SelectDescriptorLimitExceeded)
                #expect(error == SelectDescriptorLimitExceeded(fileDescriptor: high, limit: 1024))
                #expect(error.description.contains("FD_SETSIZE"))
                #expect(reactor.getReaders().isEmpty)
                #expect(reader.reads == 0)
            } else {
                #expect(reader.lost.isEmpty)
                #expect(reader.reads == 1)
                reactor.removeReader(reader)
            }
        }
    }
}

@Suite("Reactor FDSet: descriptors closed while watched")
struct ClosedWhileWatchedTests {
    @Test(
        "poll and select drop a descriptor closed while watched, with ConnectionLost, instead of failing the loop",
        arguments: [Backend.poll, .select])
    func closedWhileWatched(backend: Backend) throws {
        try withReactor(backend) { reactor in
            let pipe = try TestPipe()
            defer { pipe.close() }
            // The kernel hands out the lowest free number, so a number far
            // above what the tests hold (but below FD_SETSIZE, for select) is
            // not reused by a test running in parallel before the next wait.
            // Each backend's case takes its own range, so the two cases, which
            // run in parallel, never hand each other the closed number.
            let floor: Int32 = backend == .poll ? 900 : 960
            let number = fcntl(pipe.readEnd, F_DUPFD_CLOEXEC, floor)
            try #require(number >= floor && number < SelectPoller.descriptorLimit)
            let reader = RecordingDescriptor(number)
            reactor.addReader(reader)
            Glibc.close(number)
            reactor.iterate(delay: 0)
            #expect(reader.reads == 0)
            #expect(reader.lost.count == 1)
            #expect(reader.lost.first?.error is ConnectionLost)
        }
    }
}
