import Glibc
import Testing
import TorsionCore

@testable import TorsionPosix

/// Makes `protocol` echo everything it receives.
func echo(_ proto: RecordingProtocol) {
    proto.onData = { proto, data in proto.transport?.write(data) }
}

@Suite("Stream transports: volume, many connections, accept under EMFILE; TCP and UNIX on every backend")
struct StreamLoadTests {
    @Test(
        "1 MiB goes to an echo server and comes back intact",
        arguments: Backend.available, StreamFamily.allCases)
    func echoOneMebibyte(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            let payload = patternBytes(1 << 20, seed: 3)
            var echoed: [UInt8] = []
            var serverReceived = 0
            let bothLost = Countdown(2) { scenario.finish() }
            scenario.server.configure = { proto in
                echo(proto)
                proto.onLost = { proto, _ in
                    serverReceived = proto.received.count
                    bothLost.tick()
                }
            }
            scenario.client.configure = { proto in
                proto.onMade = { proto in
                    // Vectored and single writes mixed, 4 × 256 KiB.
                    let quarter = payload.count / 4
                    proto.transport?.writeSequence([
                        Array(payload[0..<quarter]), Array(payload[quarter..<(2 * quarter)]),
                    ])
                    proto.transport?.write(Array(payload[(2 * quarter)..<(3 * quarter)]))
                    proto.transport?.write(Array(payload[(3 * quarter)...]))
                }
                proto.onData = { proto, _ in
                    if proto.received.count >= payload.count { proto.transport?.loseConnection() }
                }
                proto.onLost = { proto, _ in
                    echoed = proto.received
                    bothLost.tick()
                }
            }
            try scenario.run()
            #expect(serverReceived == payload.count)
            #expect(echoed.count == payload.count)
            #expect(echoed == payload)
        }
    }

    @Test(
        "writeSequence of more buffers than IOV_MAX arrives whole and in order",
        arguments: Backend.available, StreamFamily.allCases)
    func writeSequenceBeyondIOVMax(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let scenario = StreamScenario(reactor, family)
            // IOV_MAX is 1024 on Linux: 3000 buffers take several system calls.
            let buffers = (0..<3000).map { Array("<\($0)>".utf8) }
            let expected = buffers.flatMap { $0 }
            let clientReceived = try scenario.runServing { $0.writeSequence(buffers) }
            #expect(clientReceived.count == expected.count)
            #expect(clientReceived == expected)
        }
    }

    // Serialized: 400 descriptors per case; run one case at a time so
    // parallel cases cannot push select past FD_SETSIZE.
    @Test(
        "200 concurrent connections each get their own echo back",
        .serialized, arguments: Backend.available, StreamFamily.allCases)
    func twoHundredConnections(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            let count = 200
            let server = RecordingServerFactory()
            // A backlog above the count: on Linux a full accept queue drops
            // SYNs, and the retransmission would take a second.
            let port = try family.listen(reactor, server, backlog: 256)
            var answers = [[UInt8]?](repeating: nil, count: count)
            var lost = 0
            let allLost = Countdown(2 * count) { stopListening([port], thenStop: reactor) }
            server.configure = { proto in
                echo(proto)
                proto.onLost = { _, _ in allLost.tick() }
            }
            let clients = (0..<count).map { index in
                let client = RecordingClientFactory()
                let message = Array("client \(index)\n".utf8)
                client.configure = { proto in
                    proto.onMade = { proto in proto.transport?.write(message) }
                    proto.onData = { proto, _ in
                        if proto.received.count >= message.count {
                            answers[index] = proto.received
                            proto.transport?.loseConnection()
                        }
                    }
                    proto.onLost = { _, _ in
                        lost += 1
                        allLost.tick()
                    }
                }
                return client
            }
            reactor.callWhenRunning {
                do {
                    for client in clients { try family.connect(reactor, to: port, client) }
                } catch {
                    Issue.record(error)
                    try? reactor.stop()
                }
            }
            try reactor.run()
            for client in clients { client.dropHooks() }
            server.dropHooks()
            #expect(lost == count)
            #expect(server.builtCount == count)
            for index in 0..<count {
                #expect(answers[index] == Array("client \(index)\n".utf8))
            }
        }
    }

    @Test(
        "accept under EMFILE: the pending connection is closed, the listener keeps working, no busy loop",
        arguments: Backend.available, StreamFamily.allCases)
    func acceptUnderEMFILE(backend: Backend, family: StreamFamily) throws {
        try withReactor(backend) { reactor in
            // Play a kernel out of descriptors for the first accept only,
            // without exhausting the process (tests run in parallel).
            let engine = try #require(reactor.engine as? any AcceptCallReplaceable)
            var acceptCalls = 0
            engine.acceptCall = { (descriptor: Int32) throws(SystemError) in
                acceptCalls += 1
                if acceptCalls == 1 { throw SystemError(errno: EMFILE, call: "accept4") }
                return try Socket.accept(descriptor)
            }
            let scenario = StreamScenario(reactor, family)
            var callsAfterShedding = 0
            let outcome = try scenario.runFirstClosedSecondServed { callsAfterShedding = acceptCalls }
            engine.acceptCall = { (descriptor: Int32) throws(SystemError) in try Socket.accept(descriptor) }
            #expect(outcome.firstLost.count == 1 && isClosed(outcome.firstLost.first), "\(outcome.firstLost)")
            #expect(outcome.firstReceived.isEmpty)
            #expect(scenario.server.builtCount == 1)
            #expect(outcome.secondReceived == Array("served".utf8))
            // The failed accept, the shed connection, EAGAIN: a handful of
            // calls, not a loop spinning on a listener that stays readable.
            #expect(callsAfterShedding <= 4, "\(callsAfterShedding) accept calls")
        }
    }
}
