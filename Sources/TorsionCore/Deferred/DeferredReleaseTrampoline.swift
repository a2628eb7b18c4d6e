#if canImport(Glibc)
import Glibc  // pthread thread-local keys only: no system calls.
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Destroys what released Deferred chains owned, one at a time, so that
/// releasing a Deferred that owns a Deferred that owns a Deferred… 100,000
/// levels deep takes constant native stack.
///
/// Chains own other chains in three ways: through continuation links (a
/// chain waiting on an inner chain is owned by it), through the closures of
/// links not run yet (a callback capturing the next Deferred), and through
/// the canceller, the current value, or an adopted orphan. Left to Swift, releasing the head
/// runs one nested `deinit` per level and overflows the stack.
///
/// Instead, `DeferredChain.deinit` moves its links, canceller, outcome and orphan to
/// this trampoline. The outermost release on a thread drains it in a loop;
/// releases that happen while it drains (the nested ones) only queue their
/// remains and return. The state is per thread (a pthread key) because
/// Deferreds of different reactors are released on different threads.
enum DeferredReleaseTrampoline {
    /// What a released chain owned.
    struct Remains {
        var links: [DeferredChain.Link]
        var canceller: ((DeferredChain) -> Void)?
        var outcome: DeferredChain.Outcome?
        var orphan: DeferredChain.Orphan?
    }

    /// The trampoline of one thread.
    ///
    /// Usage, from a `deinit`: append the remains to ``pending`` (a copy),
    /// clear the stored properties they came from, so that ``pending`` holds
    /// the last references, then call ``drain()``.
    final class State {
        private var draining = false
        var pending: [Remains] = []

        /// Destroys the pending remains, unless a drain is already running
        /// further up this thread's stack: that one will get to them.
        func drain() {
            if draining { return }
            draining = true
            while let next = pending.popLast() {
                // `next` holds the last references to what it contains: it
                // dies at the end of this iteration, and the chains it
                // releases append their own remains to `pending` and return.
                _ = next
            }
            draining = false
        }

        /// This thread's state, created on first use and freed when the
        /// thread exits.
        static var current: State {
            if let pointer = pthread_getspecific(key) {
                return Unmanaged<State>.fromOpaque(pointer).takeUnretainedValue()
            }
            let state = State()
            pthread_setspecific(key, Unmanaged.passRetained(state).toOpaque())
            return state
        }
    }

    /// The pthread key of ``State/current``; its destructor releases a
    /// thread's state when the thread exits.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key, releaseState)
        precondition(created == 0, "DeferredReleaseTrampoline: pthread_key_create failed (\(created))")
        return key
    }()
}

#if canImport(Darwin)
private func releaseState(_ pointer: UnsafeMutableRawPointer) {
    Unmanaged<DeferredReleaseTrampoline.State>.fromOpaque(pointer).release()
}
#else
private func releaseState(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    Unmanaged<DeferredReleaseTrampoline.State>.fromOpaque(pointer).release()
}
#endif
