import Testing

@testable import TorsionPosix

@Suite("FileDescriptorMap")
struct FileDescriptorMapTests {
    @Test("values are stored by descriptor number, counted, replaced and removed")
    func storeAndRemove() {
        var map = FileDescriptorMap<String>()
        #expect(map.isEmpty && map[0] == nil && map[-1] == nil && map[1000] == nil)
        map[7] = "seven"
        map[3] = "three"
        #expect(map.count == 2 && map[7] == "seven" && map[3] == "three" && map[5] == nil)
        map[7] = "SEVEN"
        #expect(map.count == 2 && map[7] == "SEVEN")
        #expect(map.entries.map(\.fd) == [3, 7] && map.entries.map(\.value) == ["three", "SEVEN"])
        #expect(map.removeValue(forKey: 7) == "SEVEN")
        #expect(map.removeValue(forKey: 7) == nil)
        map[3] = nil
        map[99] = nil
        #expect(map.isEmpty && map.count == 0 && map.entries.isEmpty)
        map[1] = "one"
        map.removeAll()
        #expect(map.isEmpty && map[1] == nil)
    }
}
