extension ChatExample: SeedServerExample {
    /// The port of Example 2-5.
    public static let defaultPort = 8001

    /// Example 2-5's `ChatFactory()`, with no users.
    public static func makeServerFactory() -> ChatFactory { ChatFactory() }
}
