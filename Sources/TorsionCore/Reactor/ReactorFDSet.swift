/// A foreign file descriptor watched by a reactor (Twisted's
/// `IFileDescriptor`).
public protocol FileDescriptorHandler: AnyObject {
    /// The descriptor to watch; must stay open while registered.
    var fileDescriptor: Int32 { get }
    /// Called when the reactor drops the descriptor because a read or
    /// write reported an error, or during shutdown.
    func connectionLost(reason: Failure)
}

/// A descriptor watched for readability (Twisted's `IReadDescriptor`).
public protocol ReadDescriptor: FileDescriptorHandler {
    /// The descriptor is readable. Return a failure to have it removed and
    /// ``FileDescriptorHandler/connectionLost(reason:)`` called.
    func doRead() -> Failure?
}

/// A descriptor watched for writability (Twisted's `IWriteDescriptor`).
public protocol WriteDescriptor: FileDescriptorHandler {
    /// The descriptor is writable. Return a failure to have it removed.
    func doWrite() -> Failure?
}

/// Watching arbitrary descriptors, on every backend: Twisted's
/// `IReactorFDSet`. Reactor thread only.
public protocol ReactorFDSet: AnyObject {
    /// Watches `reader` for readability until removed.
    func addReader(_ reader: any ReadDescriptor)
    /// Watches `writer` for writability until removed.
    func addWriter(_ writer: any WriteDescriptor)
    /// Stops watching `reader` for readability.
    func removeReader(_ reader: any ReadDescriptor)
    /// Stops watching `writer` for writability.
    func removeWriter(_ writer: any WriteDescriptor)
    /// Stops watching everything and returns what was watched.
    @discardableResult
    func removeAll() -> [any FileDescriptorHandler]
    /// The descriptors watched for reading.
    func getReaders() -> [any ReadDescriptor]
    /// The descriptors watched for writing.
    func getWriters() -> [any WriteDescriptor]
}
