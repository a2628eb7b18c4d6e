// Micro-benchmarks of Torsion's hot paths: Deferred chains, timers, the
// line and length-prefixed receivers, the write path and callFromThread.
//
// Benchmark names hold no spaces or slashes: the plugin writes a threshold
// file under a name with those replaced but looks it up under the name as
// given, so such a benchmark would never be checked.
//
// Every benchmark records wall clock and the number of mallocs. Those that
// scale (`.kilo`) do their work `benchmark.scaledIterations` times per
// iteration, so the figures read per operation; the bulk ones (timer queue,
// receivers) read per whole run of their input. Set-up that is not the
// operation under test (reactor threads, input buffers) happens before
// `startMeasurement()`.
import Benchmark
import Dispatch
import Foundation
import Torsion
import TorsionTesting

/// A configuration measuring wall clock and mallocs.
///
/// Malloc counts are deterministic for a given build and input, so they
/// are checked tightly; wall clock on a shared two-core machine is not
/// stable enough to gate on: it is recorded but never fails a check (and
/// the checked-in thresholds hold malloc counts only). The plugin checks
/// the relative and the absolute tolerance independently, so the tighter
/// of the two binds; `absoluteSlack` is in mallocs per iteration.
func measuring(
    _ scalingFactor: BenchmarkScalingFactor, maxDuration: Duration, maxIterations: Int,
    relativePercent: Double, absoluteSlack: Int?
) -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        scalingFactor: scalingFactor,
        maxDuration: maxDuration,
        maxIterations: maxIterations,
        thresholds: [
            .mallocCountTotal: .init(
                relative: [.p90: relativePercent],
                absolute: absoluteSlack.map { [.p90: $0] } ?? [:]
            ),
            .wallClock: .none,
        ]
    )
}

/// For a benchmark that repeats one cheap operation a thousand times per
/// iteration. Tolerance: 5 % or 0.1 malloc per operation, whichever is
/// tighter, so that a new allocation on a path that had none is caught.
var perOperation: Benchmark.Configuration {
    measuring(.kilo, maxDuration: .seconds(1), maxIterations: 1_000, relativePercent: 5, absoluteSlack: 100)
}

/// For a benchmark whose iteration is one whole bulk run (100k timers,
/// 1 MiB of lines or frames). Tolerance: 2 % of tens of thousands of
/// mallocs, well under one per line, frame or timer.
var perRun: Benchmark.Configuration {
    measuring(.one, maxDuration: .seconds(2), maxIterations: 50, relativePercent: 2, absoluteSlack: nil)
}

let benchmarks: @Sendable () -> Void = {
    deferredBenchmarks()
    timeBenchmarks()
    receiverBenchmarks()
    writeBenchmarks()
    threadBenchmarks()
}

// MARK: - Deferred

func deferredBenchmarks() {
    Benchmark("Deferred.chainOf10Callbacks", configuration: perOperation) { benchmark in
        for _ in benchmark.scaledIterations {
            let deferred = Deferred<Int>()
            var tail = deferred
            for _ in 0..<10 {
                tail = tail.addCallback { (value: Int) -> Int in value &+ 1 }
            }
            var result = 0
            tail.addCallback { (value: Int) -> Void in result = value }
            try deferred.callback(0)
            blackHole(result)
        }
    }

    Benchmark("Deferred.nestedFiredLater", configuration: perOperation) { benchmark in
        for _ in benchmark.scaledIterations {
            let outer = Deferred<Int>()
            let inner = Deferred<Int>()
            var result = 0
            outer
                .addCallback { (_: Int) -> Deferred<Int> in inner }
                .addCallback { (value: Int) -> Void in result = value }
            try outer.callback(1)
            try inner.callback(2)
            blackHole(result)
        }
    }
}

// MARK: - Time

/// Deterministic, well spread deadlines in [0, 1000) for the timer queue.
func scatteredDeadlines(count: Int) -> [Double] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(UInt64(1) << 53) * 1000
    }
}

func timeBenchmarks() {
    Benchmark("Clock.callLaterCancel", configuration: perOperation) { benchmark in
        let clock = Clock()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let call = clock.callLater(1) {}
            try call.cancel()
        }
        benchmark.stopMeasurement()
        blackHole(clock.queue.storedEntryCount)
    }

    Benchmark("Reactor.epoll.callLaterCancel", configuration: perOperation) { benchmark in
        let reactor = try Reactor(backend: .epoll)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let call = reactor.callLater(1) {}
            try call.cancel()
        }
        benchmark.stopMeasurement()
        blackHole(reactor)
    }

    Benchmark("Reactor.epoll.idleTurn", configuration: perOperation) { benchmark in
        let reactor = try Reactor(backend: .epoll)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            reactor.iterate(delay: 0)
        }
        benchmark.stopMeasurement()
        blackHole(reactor)
    }

    let timerCount = 100_000
    let deadlines = scatteredDeadlines(count: timerCount)
    Benchmark("TimerQueue.100kTimersScheduledAndRun", configuration: perRun) { benchmark in
        let queue = TimerQueue { 0 }
        var fired = 0
        benchmark.startMeasurement()
        for deadline in deadlines {
            _ = queue.schedule(at: deadline) { fired &+= 1 }
        }
        queue.runDueCalls(now: 1000)
        benchmark.stopMeasurement()
        precondition(fired == timerCount, "every timer must fire")
    }
}

// MARK: - Receivers

/// Splits `data` into the chunks a transport would hand to `dataReceived`.
func chunked(_ data: [UInt8], size: Int) -> [[UInt8]] {
    stride(from: 0, to: data.count, by: size).map { Array(data[$0..<min($0 + size, data.count)]) }
}

/// Up to 1 MiB of `line 00000042\r\n` lines (15 bytes each, CRLF
/// included) and how many lines it holds.
func shortLines() -> (data: [UInt8], lines: Int) {
    let lineLength = 15
    var data: [UInt8] = []
    data.reserveCapacity(1 << 20)
    var lines = 0
    while data.count + lineLength <= 1 << 20 {
        let number = String(lines)
        data.append(contentsOf: Array("line \(String(repeating: "0", count: 8 - number.count))\(number)\r\n".utf8))
        lines += 1
    }
    precondition(data.count == lines * lineLength, "every line is \(lineLength) bytes")
    return (data, lines)
}

/// 1 MiB of Int32StringReceiver frames: a 4-byte big-endian length and a
/// 12-byte payload, and how many frames it holds.
func smallFrames() -> (data: [UInt8], frames: Int) {
    let payload = Array("frame-body!!".utf8)
    let frame = [0, 0, 0, UInt8(payload.count)] + payload
    let frames = (1 << 20) / frame.count
    return (Array((0..<frames).map { _ in frame }.joined()), frames)
}

/// A receiving protocol that counts the messages it delivers.
protocol CountingReceiver: Protocol {
    /// Makes a receiver that is not connected yet.
    init()
    /// Messages delivered so far.
    var messages: Int { get }
}

/// Counts the lines it receives.
final class CountingLineReceiver: LineReceiver, CountingReceiver {
    var messages = 0
    override func lineReceived(_ line: [UInt8]) { messages &+= 1 }
}

/// Counts the frames it receives.
final class CountingInt32Receiver: Int32StringReceiver, CountingReceiver {
    var messages = 0
    override func stringReceived(_ string: [UInt8]) { messages &+= 1 }
}

/// Measures a `Receiver` connected to a StringTransport parsing `data`,
/// handed to `dataReceived` in 64 KiB chunks as a socket read would; checks
/// that all `messages` were delivered.
func receiverBenchmark<Receiver: CountingReceiver>(
    _ name: String, _: Receiver.Type, data: [UInt8], messages: Int
) {
    let chunks = chunked(data, size: 64 * 1024)
    Benchmark(name, configuration: perRun) { benchmark in
        let receiver = Receiver()
        receiver.makeConnection(StringTransport())
        benchmark.startMeasurement()
        for chunk in chunks { receiver.dataReceived(chunk) }
        benchmark.stopMeasurement()
        precondition(receiver.messages == messages, "every message must be delivered")
    }
}

func receiverBenchmarks() {
    let lines = shortLines()
    receiverBenchmark(
        "LineReceiver.1MiBOf15ByteLines", CountingLineReceiver.self, data: lines.data, messages: lines.lines)
    let frames = smallFrames()
    receiverBenchmark(
        "Int32StringReceiver.1MiBOf16ByteFrames", CountingInt32Receiver.self, data: frames.data, messages: frames.frames
    )
}

// MARK: - Write path

/// A protocol that writes one prepared 64-byte message per ``send()``.
protocol MessageSender: Protocol {
    /// Makes a sender that is not connected yet.
    init()
    /// Writes the message (with its framing) to the transport.
    func send() throws
}

/// Writes its message straight to the transport, as an echo reply does.
final class RawSender: Protocol, MessageSender {
    let message = [UInt8](repeating: 0x61, count: 64)
    func send() { transport?.write(message) }
}

/// Sends a 62-byte line and its CRLF through ``LineReceiver/sendLine(_:)-([UInt8])``.
final class LineSender: LineReceiver, MessageSender {
    let message = [UInt8](repeating: 0x61, count: 62)
    func send() { sendLine(message) }
}

/// Sends a 60-byte string and its 4-byte length through
/// ``IntNStringReceiver/sendString(_:)-([UInt8])``.
final class FrameSender: Int32StringReceiver, MessageSender {
    let message = [UInt8](repeating: 0x61, count: 60)
    func send() throws { try sendString(message) }
}

/// Measures a thousand `send()`s of a `Sender` connected to a
/// StringTransport. Each iteration writes to a fresh transport, which keeps
/// everything written: the growth of its buffer (about a dozen
/// reallocations up to 64 KiB) is counted, amortised over the writes.
func writeBenchmark<Sender: MessageSender>(_ name: String, _: Sender.Type) {
    Benchmark(name, configuration: perOperation) { benchmark in
        let transport = StringTransport()
        let sender = Sender()
        sender.makeConnection(transport)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try sender.send() }
        benchmark.stopMeasurement()
        precondition(transport.value().count == 64 * benchmark.scaledIterations.count, "64 bytes per send")
    }
}

func writeBenchmarks() {
    writeBenchmark("Write.transportWrite64B", RawSender.self)
    writeBenchmark("Write.sendLine64B", LineSender.self)
    writeBenchmark("Write.sendString64B", FrameSender.self)
}

// MARK: - Threads

/// A reactor running on a thread of its own, for the benchmarks that talk
/// to it from another thread.
final class RunningReactor: Sendable {
    let reactor: Reactor
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `reactor.run()` on a new thread and returns once it is running.
    init(backend: Backend) throws {
        let reactor = try Reactor(backend: backend)
        self.reactor = reactor
        let started = DispatchSemaphore(value: 0)
        let finished = finished
        // Queued here, while this thread is still the reactor's thread;
        // `run()` then makes the new thread the reactor thread.
        reactor.callWhenRunning { started.signal() }
        let thread = Thread {
            try? reactor.run()
            finished.signal()
        }
        thread.start()
        started.wait()
    }

    /// Stops the reactor from this (foreign) thread and waits for its
    /// thread to leave `run()`.
    func stop() {
        let reactor = reactor
        reactor.callFromThread { try? reactor.stop() }
        finished.wait()
    }
}

func threadBenchmarks() {
    // The reactor's half of the round trip on one thread, no semaphore:
    // queue a call, then one turn wakes, drains the queue and runs it.
    Benchmark("Reactor.epoll.callFromThreadThenTurn", configuration: perOperation) { benchmark in
        let reactor = try Reactor(backend: .epoll)
        var answers = 0
        let answer: @Sendable () -> Void = { blackHole(1) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            reactor.callFromThread(answer)
            reactor.iterate(delay: 0)
            answers &+= 1
        }
        benchmark.stopMeasurement()
        blackHole(answers)
    }

    Benchmark("Reactor.epoll.callFromThreadRoundTrip", configuration: perOperation) { benchmark in
        let running = try RunningReactor(backend: .epoll)
        let answered = DispatchSemaphore(value: 0)
        // Made once, so that the round trip measures the reactor and not
        // the allocation of a fresh closure context per call.
        let answer: @Sendable () -> Void = { answered.signal() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            running.reactor.callFromThread(answer)
            answered.wait()
        }
        benchmark.stopMeasurement()
        running.stop()
    }
}
