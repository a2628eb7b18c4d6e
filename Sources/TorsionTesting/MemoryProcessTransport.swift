import TorsionCore

/// The process transport a ``MemoryReactor`` returns from `spawnProcess`:
/// no process runs; the transport records what the parent does to the
/// child's pipes and lets the test play the child.
///
/// The child's descriptors are those given to `spawnProcess` (by default 0
/// written by the parent, 1 and 2 read). Closing one, by
/// ``closeChildFD(_:)`` or its `closeStdin`/`closeStdout`/`closeStderr`
/// shorthands, calls the protocol's `childConnectionLost` once. The test
/// plays the child with ``deliver(_:fromChildFD:)`` and
/// ``endProcess(exitCode:signal:)``. Test thread only.
public final class MemoryProcessTransport: ProcessTransport {
    /// The fake process id; `nil` after ``endProcess(exitCode:signal:)``.
    public private(set) var pid: Int32?

    /// The descriptor mapping of the child.
    public let childFDs: [Int32: ChildFileDescriptor]

    /// The protocol told about the child's output and end; released after
    /// `processEnded`.
    public private(set) var processProtocol: ProcessProtocol?

    /// The bytes written to each of the child's descriptors, concatenated.
    public private(set) var childInput: [Int32: [UInt8]] = [:]

    /// The child's descriptors closed so far, in closing order.
    public private(set) var closedChildFDs: [Int32] = []

    /// Every signal sent with ``signalProcess(_:)``, in order.
    public private(set) var signals: [Int32] = []

    /// `true` once ``loseConnection()`` or ``abortConnection()`` was called.
    public private(set) var disconnecting = false

    /// `true` once ``abortConnection()`` was called.
    public private(set) var aborted = false

    /// The registered producer, or `nil`.
    public private(set) var producer: (any Producer)?

    /// The `streaming` flag given with the registered producer.
    public private(set) var streaming: Bool?

    /// State as a producer of the child's output, changed by the protocol's
    /// pause, resume and stop calls.
    public private(set) var producerState: ProducerState = .producing

    /// An opaque address: a pipe has none (Twisted's `_ProcessAddress`).
    public var host: any Address { ProcessPipeAddress() }

    /// An opaque address, as ``host``.
    public var peer: any Address { ProcessPipeAddress() }

    /// Makes a transport for a fake process `pid` with the given
    /// descriptor mapping; ``MemoryReactor/spawnProcess(_:executable:arguments:environment:path:childFDs:)``
    /// makes them.
    public init(pid: Int32, childFDs: [Int32: ChildFileDescriptor] = [0: .write, 1: .read, 2: .read]) {
        self.pid = pid
        self.childFDs = childFDs
    }

    /// Attaches `processProtocol` and calls its `makeConnection`.
    func attach(_ processProtocol: ProcessProtocol) {
        self.processProtocol = processProtocol
        processProtocol.makeConnection(self)
    }

    private func isOpen(_ childFD: Int32) -> Bool {
        childFDs[childFD] != nil && !closedChildFDs.contains(childFD)
    }

    // MARK: ProcessTransport

    /// Records `data` as written to the child's standard input.
    public func write(_ data: [UInt8]) { writeToChild(0, data) }

    /// Records `data` in ``childInput`` for `childFD`. Writes to a closed or
    /// unmapped descriptor are dropped, as by a closed pipe.
    public func writeToChild(_ childFD: Int32, _ data: [UInt8]) {
        guard isOpen(childFD) else { return }
        childInput[childFD, default: []].append(contentsOf: data)
    }

    /// ``closeChildFD(_:)`` of descriptor 0.
    public func closeStdin() { closeChildFD(0) }

    /// ``closeChildFD(_:)`` of descriptor 1.
    public func closeStdout() { closeChildFD(1) }

    /// ``closeChildFD(_:)`` of descriptor 2.
    public func closeStderr() { closeChildFD(2) }

    /// Records the close and calls the protocol's `childConnectionLost`,
    /// the first time only; unmapped descriptors are ignored.
    public func closeChildFD(_ childFD: Int32) {
        guard isOpen(childFD) else { return }
        closedChildFDs.append(childFD)
        processProtocol?.childConnectionLost(childFD)
    }

    /// Records `signal` in ``signals``.
    ///
    /// - Throws: ``TorsionCore/ProcessExitedAlready`` after
    ///   ``endProcess(exitCode:signal:)``.
    public func signalProcess(_ signal: Int32) throws {
        guard pid != nil else { throw ProcessExitedAlready() }
        signals.append(signal)
    }

    /// Sets ``disconnecting`` and closes standard input, output and error,
    /// like Twisted's `Process.loseConnection`.
    public func loseConnection() {
        disconnecting = true
        closeStdin()
        closeStderr()
        closeStdout()
    }

    /// Sets ``aborted``, then as ``loseConnection()``.
    public func abortConnection() {
        aborted = true
        loseConnection()
    }

    /// Records `producer`.
    ///
    /// - Throws: ``TorsionCore/ProducerAlreadyRegisteredError`` when one is registered.
    public func registerProducer(_ producer: any Producer, streaming: Bool) throws {
        guard self.producer == nil else { throw ProducerAlreadyRegisteredError() }
        self.producer = producer
        self.streaming = streaming
    }

    /// Forgets the registered producer (no-op without one).
    public func unregisterProducer() {
        producer = nil
        streaming = nil
    }

    /// ``producerState`` becomes `.paused` unless stopped.
    public func pauseProducing() {
        if producerState != .stopped { producerState = .paused }
    }

    /// ``producerState`` becomes `.producing` unless stopped.
    public func resumeProducing() {
        if producerState != .stopped { producerState = .producing }
    }

    /// ``producerState`` becomes `.stopped` for good.
    public func stopProducing() { producerState = .stopped }

    // MARK: Playing the child

    /// The child wrote `data` on `childFD`: calls the protocol's
    /// `childDataReceived`. Ignored for a closed or unmapped descriptor.
    public func deliver(_ data: [UInt8], fromChildFD childFD: Int32 = 1) {
        guard isOpen(childFD) else { return }
        processProtocol?.childDataReceived(childFD, data)
    }

    /// The child exited: ``pid`` becomes `nil`; the protocol receives
    /// `processExited`, `childConnectionLost` for each descriptor still
    /// open (in ascending order) and finally `processEnded`, with
    /// ``TorsionCore/ProcessDone`` for exit code 0 and no signal, ``TorsionCore/ProcessTerminated``
    /// otherwise. The protocol is then released.
    ///
    /// - Throws: ``TorsionCore/ProcessExitedAlready`` when it already ended.
    public func endProcess(exitCode: Int32 = 0, signal: Int32? = nil) throws {
        guard pid != nil else { throw ProcessExitedAlready() }
        pid = nil
        let reason: Failure =
            exitCode == 0 && signal == nil
            ? Failure(ProcessDone())
            : Failure(ProcessTerminated(exitCode: signal == nil ? exitCode : nil, signal: signal))
        processProtocol?.processExited(reason: reason)
        for childFD in childFDs.keys.sorted() { closeChildFD(childFD) }
        processProtocol?.processEnded(reason: reason)
        processProtocol = nil
    }
}

/// The address of either end of a process pipe: there is none to report.
struct ProcessPipeAddress: Address {
    var description: String { "ProcessAddress()" }
}
