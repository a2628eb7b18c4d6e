import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Receives one message from `fd` and returns its bytes and the
/// descriptors that came with it (SCM_RIGHTS).
private func receiveWithDescriptors(_ fd: Int32) -> (bytes: [UInt8], descriptors: [Int32]) {
    var bytes = [UInt8](repeating: 0, count: 4096)
    let headerLength = (MemoryLayout<cmsghdr>.size + 7) & ~7
    var control = [UInt8](repeating: 0, count: headerLength + 256 * 4)
    let count = bytes.withUnsafeMutableBytes { data in
        control.withUnsafeMutableBytes { controlBytes in
            var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                message.msg_control = controlBytes.baseAddress
                message.msg_controllen = controlBytes.count
                return recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC))
            }
        }
    }
    guard count > 0 else { return ([], []) }
    let length = control.withUnsafeBytes { $0.load(as: cmsghdr.self).cmsg_len }
    let descriptorCount = length > headerLength ? (length - headerLength) / 4 : 0
    let descriptors = (0..<descriptorCount).map { index in
        control.withUnsafeBytes { $0.load(fromByteOffset: headerLength + index * 4, as: Int32.self) }
    }
    return (Array(bytes[..<count]), descriptors)
}

@Suite("UNIX connections: passing descriptors")
struct UNIXConnectionTests {
    @Test("sendFileDescriptor passes a working duplicate with the next bytes written", arguments: Backend.available)
    func passesDescriptor(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (ours, theirs) = try makeSocketPair()
        defer { close(theirs) }
        let unnamed = SocketAddress.unix(UNIXAddress(nil))
        let connection = try #require(
            reactor.makeStreamConnection(descriptor: ours, host: unnamed, peer: unnamed) as? UNIXConnection)
        connection.start(protocol: RecordingProtocol()) { _ in }
        let pipe = try TestPipe()
        defer { pipe.close() }
        try connection.sendFileDescriptor(pipe.writeEnd)
        // Nothing travels until bytes are written.
        #expect(receiveWithDescriptors(theirs).bytes.isEmpty)
        connection.write(Array("x".utf8))
        // Written through at once, or (io_uring) at the send's CQE.
        iterate(reactor) { connection.bufferedByteCount == 0 }
        let (bytes, descriptors) = receiveWithDescriptors(theirs)
        #expect(bytes == Array("x".utf8))
        try #require(descriptors.count == 1)
        let passed = descriptors[0]
        #expect(passed != pipe.writeEnd)
        _ = Array("hello".utf8).withUnsafeBytes { write(passed, $0.baseAddress, 5) }
        close(passed)
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { read(pipe.readEnd, $0.baseAddress, 16) }
        #expect(count == 5 && Array(buffer[..<5]) == Array("hello".utf8))
        connection.abortConnection()
        iterate(reactor) { reactor.liveConnectionCount == 0 }
        expectNoTransportLeaks(reactor)
    }

    @Test(
        "253 descriptors may wait for bytes; one more is a FileDescriptorQueueFullError", arguments: Backend.available)
    func descriptorQueueLimit(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        let (ours, theirs) = try makeSocketPair()
        defer { close(theirs) }
        let unnamed = SocketAddress.unix(UNIXAddress(nil))
        let connection = try #require(
            reactor.makeStreamConnection(descriptor: ours, host: unnamed, peer: unnamed) as? UNIXConnection)
        connection.start(protocol: RecordingProtocol()) { _ in }
        let pipe = try TestPipe()
        defer { pipe.close() }
        #expect(throws: SystemError.self) { try connection.sendFileDescriptor(-1) }
        for _ in 0..<253 { try connection.sendFileDescriptor(pipe.writeEnd) }
        #expect(throws: FileDescriptorQueueFullError(limit: 253)) {
            try connection.sendFileDescriptor(pipe.writeEnd)
        }
        connection.write([0])
        iterate(reactor) { connection.bufferedByteCount == 0 }
        let (bytes, descriptors) = receiveWithDescriptors(theirs)
        #expect(bytes == [0])
        #expect(descriptors.count == 253)
        descriptors.forEach { close($0) }
        // The queue is free again.
        try connection.sendFileDescriptor(pipe.writeEnd)
        connection.loseConnection()
        iterate(reactor) { reactor.liveConnectionCount == 0 }
        expectNoTransportLeaks(reactor)
    }
}
