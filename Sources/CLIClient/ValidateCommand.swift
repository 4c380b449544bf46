import ArgumentParser
import Foundation
import Pipeline

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check an experiment spec (or a group's, with a sweep) offline: every error with file:line:column.",
        discussion: """
            With `submit`'s --seeds, --set and --max-runs, checks the group that `e2h submit` would queue with \
            them and lists its members, without a daemon.
            """)

    @Argument(help: "The spec file.") var file: String
    @Flag(help: "Print the canonical spec (every default filled in) as JSON.") var canonical = false
    @OptionGroup var sweep: SweepFlags

    func run() async throws {
        try await E2H.guarded {
            let yaml = String(decoding: try readUserFile(file), as: UTF8.self)
            do {
                // A spec with a sweep is a group: every member is checked as the run it will be.
                if sweep.isGiven || SpecGroup.hasSweep(yaml: yaml, file: file) {
                    let group = try SpecGroup.expand(
                        yaml: yaml, file: file, seeds: try sweep.seeds.map(SeedRange.init(parsing:)),
                        overrides: try sweep.overrides.map(SpecOverride.init(parsing:)), maximumRuns: sweep.maxRuns)
                    if canonical {
                        for member in group.members {
                            print(String(decoding: member.spec.canonicalJSON(), as: UTF8.self))
                        }
                    } else {
                        print("\(file): valid group of \(group.members.count) runs (\(group.members[0].spec.name))")
                        for member in group.members {
                            print("  \(member.label): spec hash \(member.spec.canonicalHash.prefix(12))")
                        }
                    }
                    return
                }
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
