import TorsionCore

extension FingerExample: SeedServerExample {
    /// The port of the finger tutorial (`tcp:1079`, the unprivileged
    /// stand-in for finger's port 79).
    public static let defaultPort = 1079

    /// The tutorial's user table: `moshez` is `Happy and well`.
    public static let defaultUsers = ["moshez": "Happy and well"]

    /// The tutorial's `FingerFactory({b'moshez': b'Happy and well'})`.
    public static func makeServerFactory() -> FingerFactory { FingerFactory(users: defaultUsers) }

    /// The user table from `NAME=STATUS` entries (``parseUser(_:)``), or
    /// ``defaultUsers`` when there are none; a later entry for a name
    /// replaces an earlier one.
    ///
    /// - Throws: ``InvalidUserEntryError`` for the first bad entry.
    public static func users(from entries: [String]) throws(InvalidUserEntryError) -> [String: String] {
        guard !entries.isEmpty else { return defaultUsers }
        var users: [String: String] = [:]
        for entry in entries {
            let (name, status) = try parseUser(entry)
            users[name] = status
        }
        return users
    }
}
