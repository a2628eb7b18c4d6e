import Testing

@testable import TorsionPosix

/// The address of an array's storage (stable while nobody mutates it).
private func storageAddress(_ array: [UInt8]) -> UnsafeRawPointer? {
    array.withUnsafeBytes { $0.baseAddress }
}

@Suite("ReceivedArrays")
struct ReceivedArraysTests {
    @Test("an array its receiver let go of lends its storage to the next read")
    func reusesReleasedStorage() {
        let arrays = ReceivedArrays()
        let source: [UInt8] = Array(0..<100)
        /// Makes the first array and lets go of it, as an echo does.
        func receiveAndDrop() -> UnsafeRawPointer? {
            let first = source.withUnsafeBytes { arrays.makeArray(copying: UnsafeRawBufferPointer(rebasing: $0[..<80])) }
            return first == Array(source[..<80]) ? storageAddress(first) : nil
        }
        let address = receiveAndDrop()
        #expect(address != nil)
        let second = source.withUnsafeBytes { arrays.makeArray(copying: UnsafeRawBufferPointer(rebasing: $0[10..<70])) }
        #expect(second == Array(source[10..<70]))
        #expect(storageAddress(second) == address)
    }

    @Test("a read of the same size as the last one is copied over it in place")
    func sameSizeReadReusesStorage() {
        let arrays = ReceivedArrays()
        func receiveAndDrop(_ value: UInt8) -> UnsafeRawPointer? {
            let array = [UInt8](repeating: value, count: 64).withUnsafeBytes { arrays.makeArray(copying: $0) }
            return array == [UInt8](repeating: value, count: 64) ? storageAddress(array) : nil
        }
        let first = receiveAndDrop(1)
        #expect(first != nil)
        #expect(receiveAndDrop(2) == first)
        let third = [UInt8](repeating: 3, count: 64).withUnsafeBytes { arrays.makeArray(copying: $0) }
        #expect(third == [UInt8](repeating: 3, count: 64))
        #expect(storageAddress(third) == first)
    }

    @Test("an array its receiver kept is never written again; the next read gets new storage")
    func keptArrayIsUntouched() {
        let arrays = ReceivedArrays()
        let kept = [UInt8](repeating: 1, count: 64).withUnsafeBytes { arrays.makeArray(copying: $0) }
        let next = [UInt8](repeating: 2, count: 64).withUnsafeBytes { arrays.makeArray(copying: $0) }
        #expect(kept == [UInt8](repeating: 1, count: 64))
        #expect(next == [UInt8](repeating: 2, count: 64))
        #expect(storageAddress(kept) != storageAddress(next))
    }

    @Test("arrays held for a while (sends in flight) are all reused once released")
    func severalSparesAreReusedAndBounded() {
        let arrays = ReceivedArrays()
        let total = ReceivedArrays.spareCount + 2
        func receiveAll() -> [[UInt8]] {
            (0..<total).map { value in
                [UInt8](repeating: UInt8(value), count: 1000).withUnsafeBytes { arrays.makeArray(copying: $0) }
            }
        }
        var held = receiveAll()
        let firstAddresses = Set(held.map { storageAddress($0) })
        #expect(firstAddresses.count == total)
        held = []
        held = receiveAll()
        // Every kept spare is reused (the allocator may hand the storage
        // of the arrays that were not kept to the new ones, so this is a
        // lower bound).
        let reused = held.filter { firstAddresses.contains(storageAddress($0)) }
        #expect(reused.count >= ReceivedArrays.spareCount)
        for (value, array) in held.enumerated() { #expect(array == [UInt8](repeating: UInt8(value), count: 1000)) }
    }

    @Test("a read far smaller than the spare storage gets an array of its own size")
    func smallReadAfterLargeOneIsNotOversized() {
        let arrays = ReceivedArrays()
        _ = [UInt8](repeating: 7, count: 65_536).withUnsafeBytes { arrays.makeArray(copying: $0) }
        let small = [UInt8](repeating: 8, count: 64).withUnsafeBytes { arrays.makeArray(copying: $0) }
        #expect(small == [UInt8](repeating: 8, count: 64))
        #expect(small.capacity < 4 * 64 + 64)
    }

    @Test("random reads, some kept and some dropped: every array keeps the bytes it was made with")
    func randomKeepsAndDrops() {
        var generator = SystemRandomNumberGenerator()
        let arrays = ReceivedArrays()
        var kept: [(array: [UInt8], expected: [UInt8])] = []
        for round in 0..<400 {
            let count = Int.random(in: 0...(round % 10 == 0 ? 70_000 : 300), using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let array = bytes.withUnsafeBytes { arrays.makeArray(copying: $0) }
            #expect(array == bytes)
            if Bool.random(using: &generator) { kept.append((array, bytes)) }
        }
        for (array, expected) in kept { #expect(array == expected) }
    }
}
