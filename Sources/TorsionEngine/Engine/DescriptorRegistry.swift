/// The shared bookkeeping behind every readiness poller: which descriptors
/// are watched, for what, by which handler, and under which generation.
///
/// Each new registration of an fd number gets a fresh generation, which the
/// poller reports back with every event. An event whose generation differs
/// from the fd's current registration was meant for a previous owner of the
/// same number (closed and reused while the event waited in the batch) and
/// is dropped by ``handler(for:)``. Keeping this here, not in the pollers,
/// gives every backend the same guarantee. Loop thread only.
package struct DescriptorRegistry {
    /// One watched descriptor.
    package struct Registration {
        /// Stamped into the poller's user data; 0 is reserved for the waker.
        package let generation: UInt32
        /// What the descriptor is watched for; never empty.
        package var interest: PollerInterest
        /// Called with the readiness, masked to ``interest`` (plus
        /// ``PollerInterest/invalid``, which is always passed on); `nil`
        /// for a stream of the readiness engine, which dispatches those
        /// itself: the hot path then calls no closure and retains nothing
        /// to find where a read or write goes.
        package var handler: ((PollerInterest) -> Void)?
    }

    // MARK: Loop thread only

    private var registrations = FileDescriptorMap<Registration>()
    /// The generation the next new registration gets. Starts at 1 and skips
    /// 0 on wrap-around, so 0 can mark the engine's own waker.
    private var nextGeneration: UInt32 = 1

    /// An empty registry.
    package init() {}

    /// Number of descriptors watched (the engine's waker is not counted).
    package var count: Int { registrations.count }

    /// The registration of `fd`, if watched.
    package subscript(fd: Int32) -> Registration? { registrations[fd] }

    /// Records a new registration of `fd` and returns its generation.
    package mutating func add(
        _ fd: Int32, interest: PollerInterest, handler: ((PollerInterest) -> Void)?
    ) -> UInt32 {
        precondition(registrations[fd] == nil, "fd \(fd) is already registered")
        let generation = nextGeneration
        nextGeneration = nextGeneration == .max ? 1 : nextGeneration + 1
        registrations[fd] = Registration(generation: generation, interest: interest, handler: handler)
        return generation
    }

    /// Changes the interest and handler of a registered `fd`, keeping its
    /// generation (the descriptor is the same open file).
    package mutating func update(_ fd: Int32, interest: PollerInterest, handler: ((PollerInterest) -> Void)?) {
        registrations[fd]?.interest = interest
        registrations[fd]?.handler = handler
    }

    /// Forgets `fd`; events still queued for it become stale.
    package mutating func remove(_ fd: Int32) {
        registrations[fd] = nil
    }

    /// The handler and masked readiness for `event`, or `nil` when the event
    /// is stale (fd unregistered, or registered again since with another
    /// generation) or asks for nothing the descriptor still waits for.
    package func handler(for event: PollerEvent) -> (handler: ((PollerInterest) -> Void)?, ready: PollerInterest)? {
        guard let registration = registrations[event.fileDescriptor],
            registration.generation == event.generation
        else { return nil }
        let ready = event.ready.intersection(registration.interest.union(.invalid))
        return ready.isEmpty ? nil : (registration.handler, ready)
    }
}
