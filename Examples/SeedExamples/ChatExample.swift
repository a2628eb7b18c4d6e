import TorsionCore
import TorsionProtocols

/// The chat server of seed 003 (*Twisted Network Programming Essentials*,
/// Example 2-5): a line-based state machine, CRLF terminated. A newcomer is
/// asked `What's your name?`; a name in use gets `Name taken, please
/// choose another.`; a free one gets `Welcome, NAME!` while everyone else
/// gets `NAME has joined the channel.`. After that each line goes to the
/// others as `<NAME> LINE`, and when the user leaves the others get `NAME
/// has left the channel.`.
public enum ChatExample {
    /// Where a ``ChatProtocol`` is in the conversation.
    public enum State: Sendable, Equatable {
        /// Waiting for a free name (the seed's `REGISTER`).
        case register
        /// Registered; lines are chat messages (the seed's `CHAT`).
        case chat
    }

    /// The seed's `ChatProtocol`. Reactor thread only.
    public final class ChatProtocol: LineReceiver {
        /// The factory holding the registered users.
        public let chatFactory: ChatFactory

        /// The registered name, `nil` while in ``State/register``.
        public private(set) var name: String?

        /// Where the conversation is.
        public private(set) var state: State = .register

        /// Makes the protocol for one connection of `factory`.
        public init(factory: ChatFactory) {
            self.chatFactory = factory
        }

        /// Asks for the user's name.
        public override func connectionMade() {
            sendLine("What's your name?")
        }

        /// Unregisters the user and tells the others.
        public override func connectionLost(reason: Failure) {
            if let name, chatFactory.users[name] === self {
                chatFactory.users[name] = nil
                broadcastMessage("\(name) has left the channel.")
            }
            super.connectionLost(reason: reason)
        }

        /// Hands `line` to ``handleRegister(_:)`` or ``handleChat(_:)``.
        public override func lineReceived(_ line: [UInt8]) {
            let text = String(decoding: line, as: UTF8.self)
            switch state {
            case .register: handleRegister(text)
            case .chat: handleChat(text)
            }
        }

        /// The seed's `handle_REGISTER`: takes `name` if it is free.
        public func handleRegister(_ name: String) {
            if chatFactory.users[name] != nil {
                sendLine("Name taken, please choose another.")
                return
            }
            sendLine("Welcome, \(name)!")
            broadcastMessage("\(name) has joined the channel.")
            self.name = name
            chatFactory.users[name] = self
            state = .chat
        }

        /// The seed's `handle_CHAT`: sends `<NAME> message` to the others.
        public func handleChat(_ message: String) {
            broadcastMessage("<\(name ?? "")> \(message)")
        }

        /// Sends `message` as a line to every registered user but this one.
        public func broadcastMessage(_ message: String) {
            for (_, user) in chatFactory.users where user !== self {
                user.sendLine(message)
            }
        }
    }

    /// The seed's `ChatFactory`: the registered users by name. A user and
    /// the factory refer to each other until the user's connection is lost.
    /// Reactor thread only.
    public final class ChatFactory: Factory {
        /// Registered users by name.
        public internal(set) var users: [String: ChatProtocol] = [:]

        /// Makes a factory with no users.
        public override init() {}

        /// Returns a new ``ChatProtocol``.
        public override func buildProtocol(address: any Address) -> Protocol? {
            let chat = ChatProtocol(factory: self)
            chat.factory = self
            return chat
        }
    }
}
