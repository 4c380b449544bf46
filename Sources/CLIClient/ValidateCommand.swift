import ArgumentParser
import Foundation
import Pipeline

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an experiment spec offline: every error with file:line:column.")

    @Argument(help: "The spec file.") var file: String
    @Flag(help: "Print the canonical spec (every default filled in) as JSON.") var canonical = false

    func run() async throws {
        try await E2H.guarded {
            let yaml = String(decoding: try readUserFile(file), as: UTF8.self)
            do {
                let spec = try ExperimentSpec.parse(yaml: yaml, file: file)
                if canonical {
                    print(String(decoding: spec.canonicalJSON(), as: UTF8.self))
                } else {
                    print("\(file): valid (\(spec.name), spec hash \(spec.canonicalHash.prefix(12)))")
                }
            } catch let error as PipelineError where error.code == .invalidSpec {
                let lines = error.diagnostics.map(\.description)
                throw ClientError(.usage, lines.isEmpty ? error.message : lines.joined(separator: "\n"))
            }
        }
    }
}
