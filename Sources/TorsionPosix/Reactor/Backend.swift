import TorsionLibevent
import TorsionURing

/// The event loops a ``Reactor`` can run on. Every backend runs the same
/// reactor, transports and protocols; only the I/O engine underneath
/// differs, so one program can be run, tested and measured on each.
public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    /// select(2): portable, limited to descriptors below `FD_SETSIZE`.
    case select
    /// poll(2): no descriptor limit, O(n) per wait.
    case poll
    /// epoll(7): O(ready) per wait; the best available backend today.
    case epoll
    /// libevent 2.1 as a poller under the shared readiness engine.
    /// Available when an event base can be created.
    case libevent
    /// io_uring with native completions. Available when the start-up
    /// probe passes (a ring can be created, the kernel has every
    /// operation used, `kernel.io_uring_disabled` allows it); setting
    /// `TORSION_URING_DISABLE=1` makes the probe fail, to try the
    /// fallback to epoll on a machine where io_uring works.
    case io_uring

    /// Whether a backend can run in this build on this machine.
    public enum Availability: Equatable, Sendable {
        /// The backend can be used.
        case available
        /// The backend cannot be used, and why.
        case unavailable(reason: String)
    }

    /// Whether this backend can run here: libevent when it can create an
    /// event base, io_uring as its start-up probe finds it.
    public var availability: Availability {
        switch self {
        case .select, .poll, .epoll: .available
        case .libevent: LibeventPoller.unavailableReason.map { .unavailable(reason: $0) } ?? .available
        case .io_uring: Self.uringAvailability(probe: URingProbe.current)
        }
    }

    /// io_uring's availability given the probe's verdict (computed once
    /// per process): its reason when it failed.
    static func uringAvailability(probe: URingAvailability) -> Availability {
        switch probe {
        case .unavailable(let reason): .unavailable(reason: reason)
        case .available: .available
        }
    }

    /// The backends that can run here, in declaration order: what the
    /// conformance tests run every behaviour on.
    public static var available: [Backend] {
        allCases.filter { $0.availability == .available }
    }

    /// The backend used when none is named: io_uring when it is
    /// available, else epoll.
    public static var best: Backend { best(uring: Backend.io_uring.availability) }

    /// The best backend given io_uring's availability.
    static func best(uring: Availability) -> Backend {
        uring == .available ? .io_uring : .epoll
    }

    /// The name as written in `TORSION_REACTOR` and `--reactor`.
    public var description: String { rawValue }

    /// The environment variable naming the backend.
    public static let environmentVariable = "TORSION_REACTOR"

    /// Finds a backend by name (`uring` is accepted for `io_uring`).
    ///
    /// - Throws: ``UnknownBackendError`` for a name that is no backend,
    ///   ``BackendUnavailableError`` for a backend that cannot run here.
    ///   Never falls back silently to another backend.
    public init(named name: String) throws {
        let canonical = name == "uring" ? "io_uring" : name
        guard let backend = Backend(rawValue: canonical) else {
            throw UnknownBackendError(name: name)
        }
        if case .unavailable(let reason) = backend.availability {
            throw BackendUnavailableError(backend: backend, reason: reason)
        }
        self = backend
    }

    /// The backend named by `TORSION_REACTOR` in `environment` (the
    /// process environment by default), or ``best`` when it is unset or
    /// empty.
    ///
    /// - Throws: as ``init(named:)`` for a name that cannot be used.
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws -> Backend {
        let value = environment.map { $0[environmentVariable] } ?? processEnvironment(environmentVariable)
        guard let value, !value.isEmpty else { return best }
        return try Backend(named: value)
    }

    /// Every backend with its availability, as `torsion backends` lists
    /// them: `NAME  available` or `NAME  unavailable: REASON`.
    public static var choices: String {
        allCases.map { backend in
            switch backend.availability {
            case .available: "\(backend.rawValue)  available"
            case .unavailable(let reason): "\(backend.rawValue)  unavailable: \(reason)"
            }
        }.joined(separator: "\n")
    }
}

/// A backend name that is not one of ``Backend``'s cases (or `uring`).
public struct UnknownBackendError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The name that was asked for.
    public let name: String
    /// Names the bad value and lists the valid choices with their availability.
    public var description: String {
        "unknown reactor backend \"\(name)\"; choose one of:\n\(Backend.choices)"
    }
}

/// A backend asked for by name that cannot run in this build or on this
/// machine; the reactor never substitutes another one.
public struct BackendUnavailableError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The backend that was asked for.
    public let backend: Backend
    /// Why it cannot run.
    public let reason: String
    /// Names the backend and the reason, and lists the valid choices.
    public var description: String {
        "reactor backend \"\(backend.rawValue)\" is unavailable: \(reason); choose one of:\n\(Backend.choices)"
    }
}
