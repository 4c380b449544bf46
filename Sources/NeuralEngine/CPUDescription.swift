import Foundation

/// The CPU as /proc/cpuinfo names it, and which of the instruction-set extensions the kernels are built to use it
/// has. The one reading of /proc/cpuinfo: `e2h doctor`, the benchmarks' figures and every attempt's provenance use it.
public struct CPUDescription: Sendable, Equatable {
    /// "model name" of the first processor; "unknown CPU" where the file says none (not x86, not Linux).
    public var model: String
    public var flags: Set<String>

    /// The extensions the kernels depend on, in a fixed order: fma fixes every reduction's arithmetic (the results'
    /// bits); avx2 and avx512f only set the vector width of the same arithmetic (the speed).
    public static let kernelFeatureNames = ["fma", "avx2", "avx512f"]

    public init(model: String, flags: Set<String>) {
        self.model = model
        self.flags = flags
    }

    /// Parses the text of /proc/cpuinfo.
    public init(cpuinfo text: String) {
        func field(_ name: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(name) }
                .flatMap { $0.split(separator: ":", maxSplits: 1).dropFirst().first }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        self.init(
            model: field("model name") ?? "unknown CPU",
            flags: Set((field("flags") ?? "").split(separator: " ").map(String.init)))
    }

    /// This machine's.
    public static var current: CPUDescription {
        CPUDescription(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
    }

    /// The kernel features this CPU has, in `kernelFeatureNames` order (never a Set's order: it is recorded).
    public var kernelFeatures: [String] { Self.kernelFeatureNames.filter(flags.contains) }

    public var hasFMA: Bool { flags.contains("fma") }

    /// "AVX-512", "AVX2" or "no AVX2": the widest vectors the kernels get here.
    public var widestVector: String {
        flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "no AVX2"
    }
}
