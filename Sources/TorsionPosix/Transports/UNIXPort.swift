import Glibc
import TorsionCore

/// The socket file of a UNIX listening port, and the UNIX-specific part of
/// opening one: a stale socket file is replaced, a live one refused, the
/// mode applied. Remembers the file's identity (device and inode) so that
/// stopping removes only the file this port created, not one another
/// process bound at the same path since. Reactor thread only.
struct UNIXSocketFile {
    /// The file's path.
    let path: String
    private let device: UInt
    private let inode: UInt

    /// A listening UNIX socket on `address` with a queue of `backlog`, and
    /// its socket file (`nil` for an abstract name, which has none).
    ///
    /// A path already in use is probed: a socket file nobody accepts on
    /// (connecting is refused: its server died without removing it) is
    /// removed and bound again; a live socket, or a file that is not a
    /// socket, is left alone and reported. The file gets `mode` (`chmod`)
    /// before listening starts, so no client connects under the umask's
    /// permissions.
    ///
    /// - Throws: ``CannotListenError`` naming the path and the reason;
    ///   nothing is left open or created.
    static func listen(
        on address: UNIXAddress, backlog: Int, mode: UInt32
    ) throws(CannotListenError) -> (descriptor: Int32, file: UNIXSocketFile?) {
        let path = address.name ?? ""
        func cannotListen(_ reason: String) -> CannotListenError {
            CannotListenError(interface: "unix", port: path, reason: reason)
        }
        let descriptor: Int32
        do {
            descriptor = try Socket.makeSocket(family: AF_UNIX, kind: .stream)
        } catch {
            throw cannotListen(error.description)
        }
        var file: UNIXSocketFile?
        do {
            try bindReplacingStale(descriptor, address)
            if !address.isAbstract {
                if chmod(path, mode_t(mode)) != 0 { throw SocketOperationError.system(SystemError(call: "chmod")) }
                file = UNIXSocketFile(path: path)
            }
            try Socket.listen(descriptor, backlog: backlog)
            return (descriptor, file)
        } catch let error as CannotListenError {
            close(descriptor)
            throw error
        } catch {
            close(descriptor)
            // Bound but failed afterwards: the file is ours to remove.
            if !address.isAbstract, let file = file ?? UNIXSocketFile(path: path) { file.remove() }
            throw cannotListen("\(error)")
        }
    }

    /// Binds, and on `EADDRINUSE` for a stale socket file removes it and
    /// binds again.
    private static func bindReplacingStale(_ descriptor: Int32, _ address: UNIXAddress) throws {
        let path = address.name ?? ""
        do {
            return try Socket.bind(descriptor, to: .unix(address))
        } catch .system(let error) where error.errno == EADDRINUSE && !address.isAbstract {
            switch probe(path) {
            case .live:
                throw CannotListenError(
                    interface: "unix", port: path, reason: "\(error) (a server is accepting on this socket)")
            case .notASocket:
                throw CannotListenError(
                    interface: "unix", port: path, reason: "\(error) (the file exists and is not a socket)")
            case .stale:
                // The server that bound it is gone; only the file is left.
                unlink(path)
            case .gone:
                break
            }
        } catch {
            throw CannotListenError(interface: "unix", port: path, reason: error.description)
        }
        do {
            try Socket.bind(descriptor, to: .unix(address))
        } catch {
            throw CannotListenError(interface: "unix", port: path, reason: error.description)
        }
    }

    private enum Probe { case live, stale, notASocket, gone }

    /// What is at `path`: tries to connect to it without blocking.
    private static func probe(_ path: String) -> Probe {
        var status = stat()
        guard lstat(path, &status) == 0 else { return .gone }
        guard status.st_mode & S_IFMT == S_IFSOCK else { return .notASocket }
        guard let client = try? Socket.makeSocket(family: AF_UNIX, kind: .stream) else { return .live }
        defer { close(client) }
        do {
            _ = try Socket.connect(client, to: .unix(UNIXAddress(path)))
            return .live
        } catch .system(let error) where error.errno == ECONNREFUSED {
            return .stale
        } catch .system(let error) where error.errno == ENOENT {
            return .gone
        } catch {
            // EAGAIN: a full backlog, so someone listens; anything else:
            // do not remove what cannot be shown to be stale.
            return .live
        }
    }

    /// The file now at `path`, or `nil` when there is none.
    private init?(path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        self.path = path
        device = UInt(status.st_dev)
        inode = UInt(status.st_ino)
    }

    /// Removes the file if it is still the one this port bound.
    func remove() {
        var status = stat()
        guard lstat(path, &status) == 0, UInt(status.st_dev) == device, UInt(status.st_ino) == inode else { return }
        unlink(path)
    }
}
