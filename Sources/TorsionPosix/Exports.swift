// The system layer and the I/O engines live in TorsionEngine, below the
// reactor, so that engines in their own modules (libevent, io_uring) can
// implement the same engine protocol the reactor drives. Users of the
// reactor see that layer's public types (SystemError, SocketAddress,
// Socket, …) through this module, as before the split.
@_exported import TorsionEngine
