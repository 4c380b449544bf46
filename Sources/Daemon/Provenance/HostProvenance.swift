import BuildStamp
import Foundation
import NeuralEngine
import WireTypes

/// This daemon's side of an attempt's provenance: the binary's stamp and the machine, read once; the claim adds the
/// attempt's threads and the database's version.
enum HostProvenance {
    struct Machine: Sendable, Equatable {
        var os: String
        var kernel: String
        var cpu: CPUDescription
    }

    static let machine = Machine(
        os: distribution(osRelease: (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""),
        kernel: kernel(), cpu: .current)

    static func provenance(threads: Int, postgres: String) -> Provenance {
        Provenance(
            version: BuildStamp.version, commit: BuildStamp.commit, swift: BuildStamp.swift, os: machine.os,
            kernel: machine.kernel, cpu: machine.cpu.model, cpuFeatures: machine.cpu.kernelFeatures, threads: threads,
            postgres: postgres)
    }

    /// PRETTY_NAME of an os-release file (quotes removed), else NAME, else "unknown".
    static func distribution(osRelease text: String) -> String {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            values[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return values["PRETTY_NAME"] ?? values["NAME"] ?? "unknown"
    }

    /// `uname -srm`: "Linux 6.8.0-45-generic x86_64".
    private static func kernel() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown" }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return [text(names.sysname), text(names.release), text(names.machine)].joined(separator: " ")
    }
}
