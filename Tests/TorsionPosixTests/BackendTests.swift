import Testing
import TorsionURing

@testable import TorsionPosix

@Suite("Backend selection")
struct BackendTests {
    @Test("select, poll, epoll and libevent are available; io_uring as its probe found")
    func availability() {
        let uring: [Backend] = URingProbe.current.isAvailable ? [.io_uring] : []
        #expect(Backend.available == [.select, .poll, .epoll, .libevent] + uring)
        #expect(Backend.libevent.availability == .available)
        #expect(Backend.io_uring.availability == Backend.uringAvailability(probe: URingProbe.current))
        #expect(Backend.best == (URingProbe.current.isAvailable ? .io_uring : .epoll))
    }

    @Test("io_uring reports the probe's reason when the probe fails, and the best backend is then epoll")
    func uringFallback() {
        let failed = URingAvailability.unavailable(reason: "disabled by TORSION_URING_DISABLE=1")
        #expect(Backend.uringAvailability(probe: failed) == .unavailable(reason: "disabled by TORSION_URING_DISABLE=1"))
        #expect(Backend.best(uring: Backend.uringAvailability(probe: failed)) == .epoll)
        #expect(Backend.best(uring: .available) == .io_uring)
    }

    @Test("TORSION_REACTOR names the backend; unset or empty means the best available")
    func environment() throws {
        #expect(try Backend.fromEnvironment(["TORSION_REACTOR": "poll"]) == .poll)
        #expect(try Backend.fromEnvironment(["TORSION_REACTOR": "select"]) == .select)
        #expect(try Backend.fromEnvironment(["TORSION_REACTOR": "epoll"]) == .epoll)
        #expect(try Backend.fromEnvironment(["TORSION_REACTOR": "libevent"]) == .libevent)
        #expect(try Backend.fromEnvironment([:]) == Backend.best)
        #expect(try Backend.fromEnvironment(["TORSION_REACTOR": ""]) == Backend.best)
    }

    @Test("an unknown name is an error listing every choice, never a fallback")
    func unknownName() throws {
        let error = try #require(throws: UnknownBackendError.self) {
            try Backend.fromEnvironment(["TORSION_REACTOR": "kqueue"])
        }
        #expect(error.name == "kqueue")
        for line in [
            "select  available", "poll  available", "epoll  available",
            "libevent  available", "io_uring  ",
        ] {
            #expect(error.description.contains(line))
        }
    }

    @Test("an unavailable backend asked for by name is an error; uring names io_uring")
    func unavailableByName() throws {
        let error = BackendUnavailableError(backend: .io_uring, reason: "disabled by TORSION_URING_DISABLE=1")
        #expect(error.description.hasPrefix("reactor backend \"io_uring\" is unavailable: disabled by TORSION_URING_DISABLE=1; choose one of:"))
        #expect(error.description.contains("epoll  available"))
        switch URingProbe.current {
        case .available:
            #expect(try Backend(named: "uring") == .io_uring)
        case .unavailable(let reason):
            let uring = try #require(throws: BackendUnavailableError.self) { try Backend(named: "uring") }
            #expect(uring.backend == .io_uring && uring.reason == reason)
            #expect(throws: BackendUnavailableError.self) { try Reactor(backend: .io_uring) }
        }
    }

    @Test("Reactor(backend:) runs on the backend it names", arguments: Backend.available)
    func reactorBackend(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        #expect(reactor.backend == backend)
    }
}

@Suite("Pollers")
struct PollerTests {
    @Test("SelectPoller refuses fds at or above FD_SETSIZE and negative ones before touching an fd_set")
    func selectLimit() throws {
        let poller = SelectPoller()
        #expect(SelectPoller.descriptorLimit == 1024)
        #expect(throws: SelectDescriptorLimitExceeded(fileDescriptor: 1024, limit: 1024)) {
            try poller.register(1024, generation: 1, interest: .read)
        }
        #expect(throws: SelectDescriptorLimitExceeded.self) {
            try poller.register(-1, generation: 1, interest: .read)
        }
    }

    @Test("epoll and poll timeouts are clamped to Int32 milliseconds and rounded up")
    func pollMilliseconds() {
        #expect(Double.pollMilliseconds(nil) == -1)
        #expect(Double.pollMilliseconds(0) == 0)
        #expect(Double.pollMilliseconds(-5) == 0)
        #expect(Double.pollMilliseconds(0.0001) == 1)
        #expect(Double.pollMilliseconds(1.5) == 1500)
        #expect(Double.pollMilliseconds(1e12) == Int32.max)
        #expect(Double.pollMilliseconds(.infinity) == Int32.max)
    }

    @Test("user data packs the fd and its generation and unpacks them unchanged")
    func userData() {
        let word = PollerEvent.userData(fileDescriptor: 1234, generation: .max)
        let event = PollerEvent(userData: word, ready: .read)
        #expect(event.fileDescriptor == 1234)
        #expect(event.generation == .max)
    }

    @Test("SystemError names the call, the errno and its text")
    func systemErrorText() {
        let error = SystemError(errno: 9, call: "epoll_ctl(ADD)")
        #expect(error.description == "epoll_ctl(ADD): Bad file descriptor (errno 9)")
    }
}
