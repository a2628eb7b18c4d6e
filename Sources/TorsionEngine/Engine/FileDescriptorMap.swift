/// A map from file descriptor numbers to values, stored in an array
/// indexed by the number.
///
/// The kernel hands out the lowest free number, so a process's descriptors
/// are dense and an array is both smaller than a hash table for them and
/// far cheaper to look up: the readiness engine looks a descriptor up
/// several times per message, and hashing was a visible share of its CPU.
/// The array grows to the highest number stored and never shrinks, so its
/// size is bounded by the process's descriptor limit.
///
/// Inlinable so that the engines in other modules (io_uring) get it
/// specialized: used generically, each lookup asked the runtime for the
/// type's metadata, which cost more than the hashing it replaced.
/// Loop thread only.
public struct FileDescriptorMap<Value> {
    @usableFromInline
    var slots: [Value?] = []
    @usableFromInline
    var storedCount = 0
    /// Number of descriptors with a value.
    @inlinable
    public var count: Int { storedCount }

    /// An empty map.
    @inlinable
    public init() {}

    /// `true` when no descriptor has a value.
    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// The value of `fd`, or `nil`; setting `nil` removes it. Negative
    /// numbers are never stored (reading one gives `nil`).
    @inlinable
    public subscript(fd: Int32) -> Value? {
        get {
            let index = Int(fd)
            return index >= 0 && index < slots.count ? slots[index] : nil
        }
        set {
            let index = Int(fd)
            precondition(index >= 0, "negative descriptor \(fd)")
            if index >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count))
            }
            switch (slots[index] == nil, newValue == nil) {
            case (true, false): storedCount += 1
            case (false, true): storedCount -= 1
            default: break
            }
            slots[index] = newValue
        }
    }

    /// Removes and returns the value of `fd`, if any.
    @discardableResult
    @inlinable
    public mutating func removeValue(forKey fd: Int32) -> Value? {
        let value = self[fd]
        if value != nil { self[fd] = nil }
        return value
    }

    /// Removes every value (the storage is released too).
    @inlinable
    public mutating func removeAll() {
        slots = []
        storedCount = 0
    }

    /// Every descriptor with its value, in ascending descriptor order.
    public var entries: [(fd: Int32, value: Value)] {
        slots.indices.compactMap { index in slots[index].map { (Int32(index), $0) } }
    }
}
