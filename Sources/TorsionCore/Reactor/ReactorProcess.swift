/// What a child's file descriptor is connected to (Twisted's `childFDs`
/// mapping values).
public enum ChildFileDescriptor: Sendable, Hashable {
    /// A pipe the parent reads (the child writes).
    case read
    /// A pipe the parent writes (the child reads).
    case write
    /// An existing descriptor of the parent, inherited as is.
    case inherit(Int32)
}

/// Child processes: Twisted's `IReactorProcess`. Reactor thread only.
public protocol ReactorProcess: AnyObject {
    /// Starts `executable` with `arguments` (including `argv[0]`), talking to
    /// it through `processProtocol`. `environment` `nil` inherits the
    /// parent's; `path` is the working directory; `childFDs` `nil` means
    /// 0 → write, 1 → read, 2 → read. The child is always reaped: no zombie.
    ///
    /// - Throws: when the process cannot be started.
    @discardableResult
    func spawnProcess(
        _ processProtocol: ProcessProtocol,
        executable: String,
        arguments: [String],
        environment: [String: String]?,
        path: String?,
        childFDs: [Int32: ChildFileDescriptor]?
    ) throws -> any ProcessTransport
}

extension ReactorProcess {
    /// `spawnProcess` with the parent's environment, working directory and
    /// the standard three pipes.
    @discardableResult
    public func spawnProcess(
        _ processProtocol: ProcessProtocol, executable: String, arguments: [String],
        environment: [String: String]? = nil, path: String? = nil
    ) throws -> any ProcessTransport {
        try spawnProcess(
            processProtocol, executable: executable, arguments: arguments, environment: environment, path: path,
            childFDs: nil)
    }
}
