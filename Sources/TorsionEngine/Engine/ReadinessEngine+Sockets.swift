import Glibc

/// How many connections one readiness report of a listener accepts at
/// most: enough to drain a burst in one turn, bounded so that a listener
/// under a connection flood cannot starve the other descriptors and the
/// timers (Twisted accepts up to 100 per `doRead`, NIO 4 per read; accepted
/// sockets also want their first read soon).
private let acceptsPerReadiness = 16

// MARK: - Accept and connect emulated on readiness

extension ReadinessEngine: AcceptCallReplaceable {
    /// Watches the listener for readability and, each time it is
    /// readable, accepts until `EAGAIN` or ``acceptsPerReadiness``
    /// connections, handing each result to `handler`. Level-triggered: a
    /// connection left queued is reported again on the next wait.
    package func accept(_ fd: Int32, handler: @escaping (AcceptResult) -> Void) throws {
        try watch(fd, interest: .read) { [unowned self] ready in
            acceptReady(fd, ready, handler)
        }
    }

    package func cancelAccept(_ fd: Int32) {
        unwatch(fd)
    }

    private func acceptReady(_ fd: Int32, _ ready: PollerInterest, _ handler: (AcceptResult) -> Void) {
        guard let generation = registry[fd]?.generation else { return }
        if ready.contains(.invalid) {
            // The listener was closed behind the engine's back: report it
            // once and drop the registration, or the loop would spin.
            unwatch(fd)
            return handler(.failed(SystemError(errno: EBADF, call: "accept4")))
        }
        for _ in 0..<acceptsPerReadiness {
            let result: AcceptResult
            do {
                guard let (descriptor, peer) = try acceptCall(fd) else { return }
                result = .accepted(descriptor: descriptor, peer: peer)
            } catch {
                result = .failed(error)
            }
            handler(result)
            // The handler may have stopped listening (and the number may
            // even belong to a new descriptor by now): deliver no more.
            guard registry[fd]?.generation == generation else { return }
        }
    }

    /// Starts a nonblocking connect and completes it when the socket
    /// becomes writable (`SO_ERROR` says how it went). A connect that
    /// succeeds at once is completed the same way, on the next wait, so
    /// the caller never sees its completion run inside this call.
    package func connect(
        _ fd: Int32, to address: SocketAddress, completion: @escaping (Result<Void, SystemError>) -> Void
    ) throws {
        _ = try Socket.connect(fd, to: address)
        try watch(fd, interest: .write) { [unowned self] ready in
            unwatch(fd)
            if ready.contains(.invalid) {
                return completion(.failure(SystemError(errno: EBADF, call: "connect")))
            }
            completion(Result { () throws(SystemError) in try Socket.finishConnect(fd) })
        }
    }

    package func cancelConnect(_ fd: Int32) {
        unwatch(fd)
    }
}
