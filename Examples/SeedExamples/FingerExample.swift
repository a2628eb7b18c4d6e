import TorsionCore
import TorsionProtocols

/// The finger server of seed 001 (the finger tutorial), in its final,
/// Deferred-based form: the protocol reads one user name, asks the factory
/// with `getUser`, which returns a `Deferred`, and writes the answer (the
/// user's status or `No such user`), CRLF, then closes.
public enum FingerExample {
    /// The reply for a name the factory does not know.
    public static let noSuchUser = "No such user"

    /// The reply when `getUser` fails (the seed's `onError`).
    public static let internalError = "Internal error in server"

    /// Splits a `NAME=STATUS` user entry (the `torsion finger --user`
    /// option) at its first `=`; the status may contain `=` and may be
    /// empty.
    ///
    /// - Throws: ``InvalidUserEntryError`` when there is no `=`, the name
    ///   is empty, or either part holds a CR or LF (which would break the
    ///   one-line protocol).
    public static func parseUser(_ entry: String) throws(InvalidUserEntryError) -> (name: String, status: String) {
        guard let equals = entry.firstIndex(of: "=") else {
            throw InvalidUserEntryError(entry: entry, problem: "expected NAME=STATUS")
        }
        let name = String(entry[..<equals])
        let status = String(entry[entry.index(after: equals)...])
        guard !name.isEmpty else { throw InvalidUserEntryError(entry: entry, problem: "the name is empty") }
        guard !entry.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            throw InvalidUserEntryError(entry: entry, problem: "line breaks are not allowed")
        }
        return (name, status)
    }

    /// A user entry given to ``parseUser(_:)`` is not `NAME=STATUS`.
    public struct InvalidUserEntryError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The entry as given.
        public let entry: String
        /// What is wrong with it.
        public let problem: String

        /// Makes the error for `entry`.
        public init(entry: String, problem: String) {
            self.entry = entry
            self.problem = problem
        }

        /// Quotes the entry and says what is wrong.
        public var description: String { "invalid user entry \"\(entry)\": \(problem)" }
    }

    /// The seed's `FingerProtocol`: one line in, one line out, close. Lines
    /// after the first are ignored, so a client cannot start a second
    /// lookup before the first answer. Reactor thread only.
    public final class FingerProtocol: LineReceiver {
        private var asked = false

        /// Makes the protocol; it must be built by a ``FingerFactory``.
        public override init() {}

        /// Looks `user` up through the factory's `getUser` and writes the
        /// answer when its Deferred fires.
        public override func lineReceived(_ user: [UInt8]) {
            guard !asked, let factory = factory as? FingerFactory else { return }
            asked = true
            factory.getUser(String(decoding: user, as: UTF8.self))
                .addErrback { _ in FingerExample.internalError }
                .addCallback { [self] message in
                    transport?.write(Array(message.utf8) + [0x0D, 0x0A])
                    transport?.loseConnection()
                }
        }
    }

    /// The seed's `FingerFactory`: a table from user name to status, and
    /// `getUser` returning the answer as a Deferred. Subclasses override
    /// ``getUser(_:)`` to answer later (from a database, say); the protocol
    /// does not change. Reactor thread only.
    open class FingerFactory: Factory {
        /// Status by user name.
        public var users: [String: String]

        /// Makes a factory answering from `users`.
        public init(users: [String: String]) {
            self.users = users
            super.init()
            makeProtocol = { FingerProtocol() }
        }

        /// Returns an already fired Deferred with `user`'s status, or
        /// ``FingerExample/noSuchUser``.
        open func getUser(_ user: String) -> Deferred<String> {
            succeed(users[user] ?? FingerExample.noSuchUser)
        }
    }
}
