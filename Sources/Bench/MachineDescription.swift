import Foundation

/// "AMD EPYC, 2 cores, avx512f" — printed with every figure so results carry their machine.
enum MachineDescription {
    static var current: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
            ?? "unknown CPU"
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") }.map(String.init) ?? ""
        let vector = flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "no AVX2"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(vector)"
    }
}
