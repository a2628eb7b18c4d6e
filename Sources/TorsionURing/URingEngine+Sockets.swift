import CLibURing
import Glibc
import TorsionEngine

/// How many connections are accepted with `accept4` after a multishot
/// accept ended (usually on an error such as `EMFILE`), before it is armed
/// again: the same bound as the readiness engines' per-readiness accepts,
/// so a handler that frees a descriptor gets the pending connection in the
/// same turn and a flood cannot starve the loop.
private let acceptsAfterMultishot = 16

// MARK: - Accept and connect as ring operations

extension URingEngine: AcceptCallReplaceable {
    /// The `accept4` wrapper called after a multishot accept ended. Tests
    /// replace it to play a kernel out of descriptors; once replaced, every
    /// accept goes through it (a poll for readability, then this call),
    /// since the kernel's own accepts cannot be made to fail on demand.
    /// Accepts already armed switch at once: their multishot accepts are
    /// cancelled and the switch submitted before the setter returns, so no
    /// connection queued afterwards is taken by the kernel's accept.
    package var acceptCall: (Int32) throws(SystemError) -> (descriptor: Int32, peer: SocketAddress)? {
        get { acceptSystemCall }
        set {
            acceptSystemCall = newValue
            guard !acceptCallReplaced else { return }
            acceptCallReplaced = true
            guard !accepts.isEmpty else { return }
            for (fd, state) in accepts {
                if state.token != 0 { cancel(state.token) }
                // A new serial, so the cancelled multishot's last CQE is
                // recognised as stale and does not arm a second operation.
                let serial = nextSerial()
                accepts[fd] = AcceptState(serial: serial, handler: state.handler, token: 0)
                armAccept(fd, serial: serial)
            }
            submitQueued()
        }
    }

    /// Accepts with a multishot `IORING_OP_ACCEPT` (nonblocking,
    /// close-on-exec descriptors; the peer address from `getpeername`, since
    /// one multishot operation has no address buffer per connection). When
    /// the multishot ends (an error, or the kernel stopping it), pending
    /// connections are accepted at once with ``acceptCall`` and the
    /// multishot is armed again. Accepting again replaces the handler.
    package func accept(_ fd: Int32, handler: @escaping (AcceptResult) -> Void) throws {
        cancelAccept(fd)
        let serial = nextSerial()
        accepts[fd] = AcceptState(serial: serial, handler: handler, token: 0)
        armAccept(fd, serial: serial)
    }

    /// Stops accepting on `fd`, synchronously (see
    /// ``URingEngine/cancelSynchronously(_:)``): a listener closed next
    /// is closed at once, so its address can be bound again right away.
    package func cancelAccept(_ fd: Int32) {
        guard let state = accepts.removeValue(forKey: fd) else { return }
        if state.token != 0 { cancelSynchronously(state.token) }
    }

    /// Arms the multishot accept of the accept `serial` on `fd`, or a poll
    /// for readability with a replaced ``acceptCall`` or `afterError`.
    ///
    /// Why a poll after an error: the kernel tries a new accept at once
    /// when it is armed, and fails it with `EMFILE` while the descriptor
    /// table is full even when no connection is queued. Re-armed straight
    /// after an `EMFILE`, the multishot would fail every turn (each time
    /// making the port give up its reserve descriptor); the poll waits for
    /// a connection first, as the readiness engines do.
    private func armAccept(_ fd: Int32, serial: UInt64, afterError: Bool = false) {
        let token: UInt64
        if acceptCallReplaced || afterError {
            token = submit({ sqe in io_uring_prep_poll_add(sqe, fd, UInt32(POLLIN)) }) { [unowned self] result, _ in
                acceptReady(fd, serial: serial, result: result)
            }
        } else {
            let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            token = submit({ sqe in io_uring_prep_multishot_accept(sqe, fd, nil, nil, flags) }) {
                [unowned self] result, cqeFlags in
                accepted(fd, serial: serial, result: result, flags: cqeFlags)
            }
        }
        accepts[fd]?.token = token
    }

    /// One CQE of the multishot accept.
    private func accepted(_ fd: Int32, serial: UInt64, result: Int32, flags: UInt32) {
        guard let state = accepts[fd], state.serial == serial else {
            // Accepted after the listener stopped: nobody takes it.
            if result >= 0 { Descriptors.close(result) }
            return
        }
        if result >= 0 {
            if let peer = try? Socket.peerAddress(result) {
                state.handler(.accepted(descriptor: result, peer: peer))
            } else {
                // Reset before its address could be read (ENOTCONN): the
                // connection is gone, as an ECONNABORTED accept.
                Descriptors.close(result)
            }
        } else if ![ECONNABORTED, EINTR, EAGAIN, ECANCELED].contains(-result) {
            state.handler(.failed(SystemError(errno: -result, call: "accept4")))
        }
        guard flags & IORING_CQE_F_MORE == 0, accepts[fd]?.serial == serial else { return }
        accepts[fd]?.token = 0
        if acceptPending(fd, serial: serial) { armAccept(fd, serial: serial, afterError: result < 0) }
    }

    /// The listener polled readable (after an error, or with a replaced
    /// ``acceptCall``): accept what is queued, then arm again.
    private func acceptReady(_ fd: Int32, serial: UInt64, result: Int32) {
        guard let state = accepts[fd], state.serial == serial else { return }
        accepts[fd]?.token = 0
        if result < 0, -result != ECANCELED {
            // The listener was closed behind the engine's back: report it
            // once and stop, or the loop would spin.
            accepts[fd] = nil
            return state.handler(.failed(SystemError(errno: -result, call: "accept4")))
        }
        if acceptPending(fd, serial: serial) { armAccept(fd, serial: serial) }
    }

    /// Accepts with ``acceptCall`` until `EAGAIN` or
    /// ``acceptsAfterMultishot`` connections, handing each result to the
    /// handler; `false` when the handler stopped this accept.
    private func acceptPending(_ fd: Int32, serial: UInt64) -> Bool {
        for _ in 0..<acceptsAfterMultishot {
            guard let handler = accepts[fd]?.handler else { return false }
            let result: AcceptResult
            do {
                guard let (descriptor, peer) = try acceptSystemCall(fd) else { return true }
                result = .accepted(descriptor: descriptor, peer: peer)
            } catch {
                result = .failed(error)
            }
            handler(result)
            guard accepts[fd]?.serial == serial else { return false }
        }
        return true
    }

    /// Connects with an `IORING_OP_CONNECT`; the completion runs from
    /// ``wait(timeout:)`` with its result. The address lives in memory of
    /// its own until the final CQE, since the kernel may read it after
    /// this call returns.
    ///
    /// - Throws: ``SocketOperationError`` for an address the socket
    ///   cannot take; nothing is pending then. Refusals (even immediate
    ///   ones, as for UNIX sockets) arrive through the completion.
    package func connect(
        _ fd: Int32, to address: SocketAddress, completion: @escaping (Result<Void, SystemError>) -> Void
    ) throws {
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<sockaddr_storage>.size, alignment: MemoryLayout<sockaddr_storage>.alignment)
        let length: socklen_t
        do {
            // SAFETY: withSockAddr's pointer holds `length` valid bytes,
            // at most a sockaddr_storage, which `storage` can hold.
            length = try address.withSockAddr { pointer, length in
                storage.copyMemory(from: pointer, byteCount: Int(length))
                return length
            }
        } catch {
            storage.deallocate()
            throw error
        }
        cancelConnect(fd)
        let serial = nextSerial()
        let token = submit({ sqe in
            io_uring_prep_connect(sqe, fd, storage.assumingMemoryBound(to: sockaddr.self), length)
        }) { [unowned self] result, _ in
            storage.deallocate()
            guard connects[fd]?.serial == serial else { return }
            connects[fd] = nil
            completion(result == 0 ? .success(()) : .failure(SystemError(errno: -result, call: "connect")))
        }
        connects[fd] = ArmedOperation(token: token, serial: serial)
    }

    package func cancelConnect(_ fd: Int32) {
        guard let armed = connects.removeValue(forKey: fd) else { return }
        cancel(armed.token)
    }
}
