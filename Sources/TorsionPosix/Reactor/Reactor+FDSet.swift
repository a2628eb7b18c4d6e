import TorsionCore

// MARK: - ReactorFDSet

extension Reactor: ReactorFDSet {
    /// Watches `reader` for readability until removed; adding it again is
    /// a no-op. When the backend refuses the descriptor (for example select
    /// with an fd ≥ FD_SETSIZE), the reader is not added and its
    /// `connectionLost` receives the error. Reactor thread only.
    public func addReader(_ reader: any ReadDescriptor) {
        assertInIOThread()
        let fd = reader.fileDescriptor
        if let current = readers[fd], current === reader { return }
        let previous = readers.updateValue(reader, forKey: fd)
        if let error = updateWatch(fd) {
            readers[fd] = previous
            reader.connectionLost(reason: Failure(error))
        }
    }

    /// Watches `writer` for writability until removed; as ``addReader(_:)``
    /// otherwise. Reactor thread only.
    public func addWriter(_ writer: any WriteDescriptor) {
        assertInIOThread()
        let fd = writer.fileDescriptor
        if let current = writers[fd], current === writer { return }
        let previous = writers.updateValue(writer, forKey: fd)
        if let error = updateWatch(fd) {
            writers[fd] = previous
            writer.connectionLost(reason: Failure(error))
        }
    }

    /// Stops watching `reader`; a reader not watched is ignored. Call it
    /// before closing the descriptor. Reactor thread only.
    public func removeReader(_ reader: any ReadDescriptor) {
        assertInIOThread()
        let fd = reader.fileDescriptor
        guard let current = readers[fd], current === reader else { return }
        readers[fd] = nil
        _ = updateWatch(fd)
    }

    /// Stops watching `writer`; a writer not watched is ignored. Reactor
    /// thread only.
    public func removeWriter(_ writer: any WriteDescriptor) {
        assertInIOThread()
        let fd = writer.fileDescriptor
        guard let current = writers[fd], current === writer else { return }
        writers[fd] = nil
        _ = updateWatch(fd)
    }

    /// Stops watching every reader and writer and returns them, each object
    /// once; `connectionLost` is not called. Reactor thread only.
    @discardableResult
    public func removeAll() -> [any FileDescriptorHandler] {
        assertInIOThread()
        var removed: [any FileDescriptorHandler] = Array(readers.values)
        for writer in writers.values where !removed.contains(where: { $0 === writer }) {
            removed.append(writer)
        }
        for fd in Set(readers.keys).union(writers.keys) { engine.unwatch(fd) }
        readers.removeAll()
        writers.removeAll()
        return removed
    }

    /// The descriptors watched for reading. Reactor thread only.
    public func getReaders() -> [any ReadDescriptor] {
        assertInIOThread()
        return Array(readers.values)
    }

    /// The descriptors watched for writing. Reactor thread only.
    public func getWriters() -> [any WriteDescriptor] {
        assertInIOThread()
        return Array(writers.values)
    }

    /// Tells the engine what `fd` is watched for now; returns the engine's
    /// refusal, if any.
    private func updateWatch(_ fd: Int32) -> (any Error)? {
        var interest: PollerInterest = []
        if readers[fd] != nil { interest.insert(.read) }
        if writers[fd] != nil { interest.insert(.write) }
        do {
            try engine.watch(fd, interest: interest) { [unowned self] ready in descriptorReady(fd, ready) }
            return nil
        } catch {
            return error
        }
    }

    /// Dispatches readiness of `fd` to its reader, then its writer (if
    /// still watched). A descriptor found closed is dropped with
    /// `ConnectionLost`. A failure returned by either drops both and tells
    /// each `connectionLost`, once per object (Twisted's `_disconnectSelectable`).
    private func descriptorReady(_ fd: Int32, _ ready: PollerInterest) {
        if ready.contains(.invalid) {
            return drop(fd, Failure(ConnectionLost("the descriptor was closed while the reactor watched it")))
        }
        if ready.contains(.read), let reader = readers[fd], let failure = reader.doRead() {
            return drop(fd, failure)
        }
        if ready.contains(.write), let writer = writers[fd], let failure = writer.doWrite() {
            return drop(fd, failure)
        }
    }

    private func drop(_ fd: Int32, _ failure: Failure) {
        let reader = readers.removeValue(forKey: fd)
        let writer = writers.removeValue(forKey: fd)
        engine.unwatch(fd)
        reader?.connectionLost(reason: failure)
        if let writer, writer !== reader { writer.connectionLost(reason: failure) }
    }
}
