import Testing

@testable import TorsionURing

@Suite("URingProbe: when io_uring is reported unavailable, and why")
struct URingProbeTests {
    @Test("TORSION_URING_DISABLE set to anything but empty or 0 makes io_uring unavailable, naming the variable")
    func environmentOverride() {
        let disabled = URingProbe.run(disable: "1", disabledSetting: "0", kernel: "6.18.0")
        #expect(disabled == .unavailable(reason: "disabled by TORSION_URING_DISABLE=1"))
        for value in [nil, "", "0"] {
            let verdict = URingProbe.run(disable: value, disabledSetting: "0", kernel: "6.18.0")
            #expect(verdict == URingProbe.run(disable: nil, disabledSetting: nil, kernel: "6.18.0"))
        }
    }

    @Test("kernel.io_uring_disabled = 2 makes io_uring unavailable without trying a ring")
    func sysctlDisabled() {
        let verdict = URingProbe.run(disable: nil, disabledSetting: "2\n", kernel: "6.18.0")
        #expect(verdict == .unavailable(reason: "disabled by the kernel (kernel.io_uring_disabled = 2)"))
    }

    @Test("a kernel older than 6.0 is reported with its release")
    func oldKernel() {
        let verdict = URingProbe.run(disable: nil, disabledSetting: nil, kernel: "5.15.0-91-generic")
        guard case .unavailable(let reason) = verdict else {
            Issue.record("5.15 reported available")
            return
        }
        #expect(reason.hasPrefix("Linux 5.15.0-91-generic is older than 6.0"))
    }

    @Test("kernel releases are read as major.minor")
    func kernelVersions() {
        #expect(URingProbe.kernelVersion("6.18.0-1-amd64")! == (6, 18))
        #expect(URingProbe.kernelVersion("5.4")! == (5, 4))
        #expect(URingProbe.kernelVersion("weird") == nil)
    }

    @Test(
        "on a kernel with io_uring enabled the probe passes, creating a ring and finding every opcode",
        .enabled(if: URingProbe.current.isAvailable))
    func probePasses() {
        #expect(URingProbe.run(disable: nil, disabledSetting: "0", kernel: "6.18.0") == .available)
    }
}
