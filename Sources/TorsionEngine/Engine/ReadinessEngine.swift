/// An ``IOEngine`` over a readiness ``Poller`` (select, poll or epoll).
///
/// Owns the poller, the ``Waker`` (registered under the reserved generation
/// 0) and the ``DescriptorRegistry`` that gives each registration a
/// generation and drops stale events. Generic over the poller so each
/// backend's calls are direct, not through an existential, on the hot path.
/// Loop thread only, except ``waker``.
package final class ReadinessEngine<P: Poller>: IOEngine {
    // MARK: Any thread

    package let waker: Waker

    // MARK: Loop thread only

    private let poller: P
    /// Read by the socket operations to notice a handler that cancelled.
    @exclusivity(unchecked) private(set) var registry = DescriptorRegistry()
    /// The `accept4` wrapper the accept operation calls; tests replace it
    /// to play the kernel (an `EMFILE` the process cannot produce safely
    /// while other tests run).
    package var acceptCall: (Int32) throws(SystemError) -> (descriptor: Int32, peer: SocketAddress)? = Socket.accept
    /// Reused between waits so a turn allocates nothing for its events.
    @exclusivity(unchecked) private var events: [PollerEvent] = []
    @exclusivity(unchecked) private var closed = false
    /// Receives and sends in progress, by fd (see ReadinessEngine+Stream).
    @exclusivity(unchecked) package var streams = FileDescriptorMap<StreamOperations>()
    /// The arrays reads are delivered in (storage reused when free).
    package let receivedArrays = ReceivedArrays()
    /// The loop-owned buffer every receive reads into before copying the
    /// bytes read into the array handed to its receiver.
    package let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: ReadinessEngine.receiveBufferSize, alignment: 16)

    /// Wraps `poller`, creating and registering a waker.
    package init(poller: P) throws {
        self.poller = poller
        waker = try Waker()
        do {
            try poller.register(waker.fileDescriptor, generation: 0, interest: .read)
        } catch {
            waker.close()
            poller.close()
            throw error
        }
    }

    package var watchedCount: Int { registry.count }

    package func watch(_ fd: Int32, interest: PollerInterest, handler: @escaping (PollerInterest) -> Void) throws {
        try register(fd, interest: interest, handler: handler)
    }

    /// Registers `fd` for `interest`, with `handler`, or with none for a
    /// stream this engine dispatches itself (``streamReady(_:_:)``).
    func register(_ fd: Int32, interest: PollerInterest, handler: ((PollerInterest) -> Void)?) throws {
        guard !interest.isEmpty else { return unwatch(fd) }
        if let current = registry[fd] {
            if current.interest != interest {
                try poller.modify(fd, generation: current.generation, interest: interest)
            }
            registry.update(fd, interest: interest, handler: handler)
        } else {
            let generation = registry.add(fd, interest: interest, handler: handler)
            do {
                try poller.register(fd, generation: generation, interest: interest)
            } catch {
                registry.remove(fd)
                throw error
            }
        }
    }

    package func unwatch(_ fd: Int32) {
        streams[fd] = nil
        guard registry[fd] != nil else { return }
        registry.remove(fd)
        // A descriptor closed before being unwatched has already left the
        // kernel's epoll set (EBADF/ENOENT); the registry entry is what
        // matters, so the error is not reported.
        try? poller.unregister(fd)
    }

    /// Readiness engines hold no operation on the descriptor once it is
    /// unwatched, so it is closed at once.
    package func closeDescriptor(_ fd: Int32) {
        unwatch(fd)
        Descriptors.close(fd)
    }

    package func wait(timeout: Double?) throws {
        try poller.wait(timeout: timeout, into: &events)
        for event in events {
            if event.fileDescriptor == waker.fileDescriptor, event.generation == 0 {
                waker.drain()
            } else if let (handler, ready) = registry.handler(for: event) {
                if let handler {
                    handler(ready)
                } else {
                    streamReady(event.fileDescriptor, ready)
                }
            }
        }
    }

    package func close() {
        guard !closed else { return }
        closed = true
        streams.removeAll()
        receiveBuffer.deallocate()
        poller.close()
        waker.close()
    }
}
