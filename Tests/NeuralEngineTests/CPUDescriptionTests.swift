import Testing

@testable import NeuralEngine

@Suite("CPU description")
struct CPUDescriptionTests {
    @Test func readsTheModelAndTheKernelsFeaturesInAFixedOrder() {
        let cpuinfo = """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            model name\t: AMD EPYC 9B14: 96-Core
            flags\t\t: fpu sse2 avx512f avx2 fma bmi2

            processor\t: 1
            model name\t: AMD EPYC 9B14: 96-Core
            """
        let cpu = CPUDescription(cpuinfo: cpuinfo)
        // Only the first colon separates the field; the model may contain more.
        #expect(cpu.model == "AMD EPYC 9B14: 96-Core")
        #expect(cpu.kernelFeatures == ["fma", "avx2", "avx512f"])
        #expect(cpu.hasFMA && cpu.widestVector == "AVX-512")
    }

    @Test func aCPUWithoutTheFeaturesOrAFileSaysSo() {
        let old = CPUDescription(cpuinfo: "model name\t: Old Xeon\nflags\t\t: sse2 avx\n")
        #expect(old.kernelFeatures.isEmpty && !old.hasFMA && old.widestVector == "no AVX2")
        let avx2 = CPUDescription(cpuinfo: "flags\t\t: avx2 fma\n")
        #expect(avx2.model == "unknown CPU" && avx2.kernelFeatures == ["fma", "avx2"] && avx2.widestVector == "AVX2")
    }
}
