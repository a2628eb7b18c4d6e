import Testing
import TorsionCore
import TorsionTesting

@Suite("Protocol")
struct ProtocolTests {
    final class Recorder: Protocol {
        var events: [String] = []
        override func connectionMade() {
            events.append("connectionMade connected=\(connected) transport=\(transport != nil)")
        }
        override func dataReceived(_ data: [UInt8]) { events.append("data \(data.count)") }
    }

    @Test("a new protocol is not connected and has no transport or factory")
    func initialState() {
        let proto = Protocol()
        #expect(!proto.connected)
        #expect(proto.transport == nil)
        #expect(proto.factory == nil)
    }

    @Test("makeConnection sets transport and connected before calling connectionMade")
    func makeConnection() {
        let proto = Recorder()
        let transport = StringTransport()
        proto.makeConnection(transport)
        #expect(proto.transport === transport)
        #expect(proto.connected)
        #expect(proto.events == ["connectionMade connected=true transport=true"])
    }

    @Test("connectionLost clears connected and keeps the transport for inspection")
    func connectionLost() {
        let proto = Protocol()
        let transport = StringTransport()
        proto.makeConnection(transport)
        proto.connectionLost(reason: Failure(ConnectionDone()))
        #expect(!proto.connected)
        #expect(proto.transport === transport)
    }

    @Test("the default handlers accept data and events without effect")
    func defaultHandlers() {
        let proto = Protocol()
        let transport = StringTransport()
        proto.makeConnection(transport)
        proto.dataReceived([1, 2, 3])
        #expect(transport.value().isEmpty)
        #expect(proto.connected)
    }
}

@Suite("DatagramProtocol")
struct DatagramProtocolTests {
    final class Recorder: DatagramProtocol {
        var events: [String] = []
        override func startProtocol() { events.append("start transport=\(transport != nil)") }
        override func stopProtocol() { events.append("stop") }
        override func datagramReceived(_ datagram: [UInt8], from address: any Address) {
            events.append("datagram \(datagram.count) from \(address)")
        }
        override func connectionRefused() { events.append("refused") }
    }

    @Test("makeConnection sets the transport, then startProtocol runs")
    func makeConnection() {
        let proto = Recorder()
        let port = MemoryDatagramPort()
        proto.makeConnection(port)
        #expect(proto.transport === port)
        #expect(proto.numPorts == 1)
        #expect(proto.events == ["start transport=true"])
    }

    @Test("doStart and doStop count ports: start on the first, stop and release the transport after the last")
    func referenceCounting() {
        let proto = Recorder()
        proto.makeConnection(MemoryDatagramPort())
        proto.doStart()
        #expect(proto.numPorts == 2)
        proto.doStop()
        #expect(proto.events == ["start transport=true"])
        #expect(proto.transport != nil)
        proto.doStop()
        #expect(proto.events == ["start transport=true", "stop"])
        #expect(proto.numPorts == 0)
        #expect(proto.transport == nil)
    }

    @Test("an extra doStop is ignored")
    func extraDoStop() {
        let proto = Recorder()
        proto.doStop()
        #expect(proto.numPorts == 0)
        #expect(proto.events.isEmpty)
    }

    @Test("datagrams and refusals reach the overridden handlers")
    func dispatch() {
        let proto = Recorder()
        proto.datagramReceived([1, 2], from: IPv4Address(.udp, host: "192.0.2.1", port: 53))
        proto.connectionRefused()
        #expect(proto.events == ["datagram 2 from IPv4Address(type='UDP', host='192.0.2.1', port=53)", "refused"])
    }
}

@Suite("ProcessProtocol")
struct ProcessProtocolTests {
    final class Recorder: ProcessProtocol {
        var events: [String] = []
        override func connectionMade() { events.append("made") }
        override func outReceived(_ data: [UInt8]) { events.append("out \(String(decoding: data, as: UTF8.self))") }
        override func errReceived(_ data: [UInt8]) { events.append("err \(String(decoding: data, as: UTF8.self))") }
        override func inConnectionLost() { events.append("in lost") }
        override func outConnectionLost() { events.append("out lost") }
        override func errConnectionLost() { events.append("err lost") }
    }

    @Test("makeConnection sets the transport and calls connectionMade")
    func makeConnection() {
        let proto = Recorder()
        let transport = MemoryProcessTransport(pid: 7)
        proto.makeConnection(transport)
        #expect(proto.transport === transport)
        #expect(proto.events == ["made"])
    }

    @Test("childDataReceived sends descriptor 1 to outReceived, 2 to errReceived and ignores others")
    func childDataDispatch() {
        let proto = Recorder()
        proto.childDataReceived(1, Array("stdout".utf8))
        proto.childDataReceived(2, Array("stderr".utf8))
        proto.childDataReceived(3, Array("other".utf8))
        proto.childDataReceived(0, Array("stdin?".utf8))
        #expect(proto.events == ["out stdout", "err stderr"])
    }

    @Test("childConnectionLost sends 0, 1 and 2 to the in/out/err variants and ignores others")
    func childConnectionLostDispatch() {
        let proto = Recorder()
        for childFD: Int32 in [2, 0, 1, 5] { proto.childConnectionLost(childFD) }
        #expect(proto.events == ["err lost", "in lost", "out lost"])
    }
}
