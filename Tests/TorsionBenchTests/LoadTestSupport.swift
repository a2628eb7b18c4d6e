import Foundation
import Glibc
import Testing

@testable import TorsionBench

/// A small echo server for the load generator's tests: one thread, poll(2)
/// for readability, blocking writes (the generator always reads what it
/// is sent, so a write never blocks for long). It can misbehave on purpose.
final class TestEchoServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Echoes every byte.
        case echo
        /// Flips one bit of the first byte echoed on each connection.
        case corrupt
        /// Echoes this many bytes per connection, then closes it.
        case closeAfter(Int)
        /// Echoes every chunk twice: more bytes than were sent.
        case duplicate
        /// Echoes this many bytes per connection, then swallows the rest
        /// and keeps the connection open.
        case swallowAfter(Int)
        /// Never accepts: connects complete in the backlog, nothing echoes.
        case silent
    }

    let port: UInt16
    private let listener: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = DispatchSemaphore(value: 0)

    init(_ behaviour: Behaviour) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0 && listen(listener, 1024) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        var pipeFDs: [Int32] = [0, 0]
        try #require(pipe(&pipeFDs) == 0)
        (wakeRead, wakeWrite) = (pipeFDs[0], pipeFDs[1])
        let (wakeRead, finished) = (wakeRead, finished)
        let thread = Thread {
            Self.serve(listener: listener, wake: wakeRead, behaviour: behaviour)
            finished.signal()
        }
        thread.start()
    }

    /// Stops the thread and closes every socket; waits for the thread.
    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        finished.wait()
        close(listener)
        close(wakeRead)
        close(wakeWrite)
    }

    private static func serve(listener: Int32, wake: Int32, behaviour: Behaviour) {
        var clients: [(fd: Int32, echoed: Int)] = []
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        let accepting: Bool
        if case .silent = behaviour { accepting = false } else { accepting = true }
        defer { for client in clients { close(client.fd) } }
        while true {
            var polled = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            if accepting { polled.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            polled += clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), -1) >= 0 else { continue }
            if polled[0].revents != 0 { return }
            if accepting && polled[1].revents != 0 {
                let fd = accept(listener, nil, nil)
                if fd >= 0 { clients.append((fd, 0)) }
            }
            let first = accepting ? 2 : 1
            var closed: [Int] = []
            for slot in first..<polled.count where polled[slot].revents != 0 {
                let index = slot - first
                let fd = clients[index].fd
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 {
                    closed.append(index)
                    continue
                }
                var length = count
                switch behaviour {
                case .corrupt where clients[index].echoed == 0: buffer[0] ^= 0x40
                case .closeAfter(let limit), .swallowAfter(let limit):
                    length = min(count, max(0, limit - clients[index].echoed))
                default: break
                }
                let copies: Int
                if case .duplicate = behaviour { copies = 2 } else { copies = 1 }
                for _ in 0..<copies {
                    var offset = 0
                    while offset < length {
                        let written = buffer.withUnsafeBytes {
                            send(fd, $0.baseAddress! + offset, length - offset, Int32(MSG_NOSIGNAL))
                        }
                        if written <= 0 { break }
                        offset += written
                    }
                }
                clients[index].echoed += length
                if case .closeAfter(let limit) = behaviour, clients[index].echoed >= limit { closed.append(index) }
            }
            for index in closed.reversed() {
                close(clients[index].fd)
                clients.remove(at: index)
            }
        }
    }
}

/// Runs the load generator on its own thread and gives up (recording an
/// issue) if it has not returned within `limit` seconds, so a hang fails
/// the test instead of stalling the suite.
func runWithWatchdog(
    _ spec: LoadSpec, limit: Double = 30, drainTimeout: Double = LoadGenerator.drainTimeout, progress: (@Sendable (LoadPhase, Double, Int) -> Void)? = nil
) -> Result<LoadResult, LoadError>? {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox()
    Thread {
        box.value = Result { () throws(LoadError) -> LoadResult in try LoadGenerator.run(spec, drainTimeout: drainTimeout, progress: progress) }
        done.signal()
    }.start()
    guard done.wait(timeout: .now() + limit) == .success else {
        Issue.record("the load generator did not return within \(limit) s")
        return nil
    }
    return box.value
}

/// Hands a result from the generator's thread to the test's; the
/// semaphore orders the write before the read.
private final class ResultBox: @unchecked Sendable {
    var value: Result<LoadResult, LoadError>?
}
