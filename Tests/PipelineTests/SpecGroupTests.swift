import Analysis
import Foundation
import Testing

@testable import Pipeline

@Suite struct SpecGroupTests {
    static let base = """
        name: sweep
        seed: 0
        policy:
          sft: {steps: 100}
        """

    static func diagnostics(_ body: () throws -> Any) -> [String] {
        do {
            _ = try body()
            return []
        } catch let error as PipelineError {
            return [error.message] + error.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func seedsAndSettingsExpandToTheirCartesianProduct() throws {
        let group = try SpecGroup.expand(
            yaml: Self.base, file: "s.yaml", seeds: try SeedRange(parsing: "0..2"),
            overrides: [
                try SpecOverride(parsing: "policy.sft.learning_rate=1e-3,3e-3"),
                try SpecOverride(parsing: "sampling.n=[1, 2, 4],[1, 8]"),
            ])
        #expect(group.members.count == 2 * 2 * 3)
        #expect(group.members.map(\.spec.seed) == Array(repeating: [0, 1, 2], count: 4).flatMap { $0 })
        #expect(
            group.members.map(\.spec.policy.sft.learningRate).prefix(6) == [0.001, 0.001, 0.001, 0.001, 0.001, 0.001])
        #expect(group.members[6].spec.policy.sft.learningRate == 0.003)
        #expect(group.members[3].spec.sampling.n == [1, 8])
        // What the file says stays; what is not written takes its default, as for any spec.
        #expect(group.members.allSatisfy { $0.spec.policy.sft.steps == 100 && $0.spec.threads == 2 })
        #expect(group.members[4].label == "policy.sft.learning_rate=1e-3 sampling.n=[1, 8] seed=1")
        // Each member is an ordinary spec: its hash is its own.
        #expect(Set(group.members.map(\.spec.canonicalHash)).count == 12)
    }

    /// `submit --from`: a member of a swept group cloned without edits is that member's spec exactly; edits and
    /// seeds replace its recorded values of the same path; the recorded sweep block is not expanded again.
    @Test func aCloneIsTheRecordedRunWithItsEditsOnly() throws {
        let yaml =
            Self.base + """

                sweep:
                  seeds: 3..4
                  set:
                    policy.sft.learning_rate: [0.001, 0.003]
                """
        let original = try SpecGroup.expand(yaml: yaml, file: "s.yaml").members[3]
        #expect(original.label == "policy.sft.learning_rate=0.003 seed=4")
        func clone(_ edits: [String], seeds: SeedRange? = nil) throws -> SpecGroup {
            try SpecGroup.clone(
                yaml: yaml, file: "recorded",
                overrides: SpecGroup.cloneOverrides(
                    settings: original.settings, edits: try edits.map(SpecOverride.init(parsing:)), seeds: seeds),
                seeds: seeds, maximumRuns: nil)
        }
        let same = try clone([])
        #expect(same.members.map(\.spec.canonicalHash) == [original.spec.canonicalHash])

        let edited = try clone(["policy.sft.steps=7,9"], seeds: SeedRange(0...2))
        #expect(edited.members.count == 6)
        #expect(edited.members.map(\.spec.policy.sft.steps) == [7, 7, 7, 9, 9, 9])
        #expect(edited.members.map(\.spec.seed) == [0, 1, 2, 0, 1, 2])
        #expect(edited.members.allSatisfy { $0.spec.policy.sft.learningRate == 0.003 })

        let relearned = try clone(["policy.sft.learning_rate=0.01"])
        #expect(relearned.members.map(\.spec.policy.sft.learningRate) == [0.01])
        #expect(relearned.members.map(\.spec.seed) == [4])

        let unknown = Self.diagnostics { try clone(["policy.sft.step=7"]) }
        #expect(unknown.joined(separator: "\n").contains("did you mean 'steps'"), "\(unknown)")
    }

    @Test func aSweepBlockIsTheSameGroupAsTheCommandLine() throws {
        let fromFile = try SpecGroup.expand(
            yaml: Self.base + """

                sweep:
                  seeds: 3..4
                  set:
                    policy.sft.learning_rate: [0.001, 0.003]
                """, file: "s.yaml")
        let fromCommandLine = try SpecGroup.expand(
            yaml: Self.base, file: "s.yaml", seeds: SeedRange(3...4),
            overrides: [SpecOverride(path: "policy.sft.learning_rate", values: ["0.001", "0.003"])])
        #expect(fromFile.members.map(\.spec) == fromCommandLine.members.map(\.spec))
        // The command line replaces the file's seeds and its values for the same path.
        let replaced = try SpecGroup.expand(
            yaml: Self.base + "\nsweep: {seeds: 0..9, set: {policy.sft.learning_rate: [0.1, 0.2]}}\n", file: "s.yaml",
            seeds: SeedRange(5...5), overrides: [SpecOverride(path: "policy.sft.learning_rate", values: ["0.01"])])
        #expect(replaced.members.map(\.spec.seed) == [5])
        #expect(replaced.members.map(\.spec.policy.sft.learningRate) == [0.01])
        // Without a sweep, a spec is a group of one.
        #expect(try SpecGroup.expand(yaml: Self.base, file: "s.yaml").members.map(\.spec.seed) == [0])
    }

    @Test func anUnknownPathSuggestsTheNearestKey() {
        let problems = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml", overrides: [try SpecOverride(parsing: "policy.sft.learnng_rate=1e-3")])
        }
        #expect(
            problems.contains {
                $0.hasPrefix("--set policy.sft.learnng_rate=1e-3:1:1: policy.sft.learnng_rate: unknown key")
                    && $0.contains("did you mean 'learning_rate'?")
            }, "\(problems)")
        let section = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml", overrides: [try SpecOverride(parsing: "polcy.sft.steps=5")])
        }
        #expect(section.contains { $0.contains("unknown key 'polcy' — did you mean 'policy'?") }, "\(section)")
    }

    @Test func aValueOfTheWrongTypeIsRefused() {
        let problems = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml",
                overrides: [try SpecOverride(parsing: "policy.sft.learning_rate=1e-3,fast")])
        }
        #expect(
            problems.contains {
                $0.hasPrefix("--set policy.sft.learning_rate=fast") && $0.contains("expected a number")
            }, "\(problems)")
        let listItem = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml", overrides: [try SpecOverride(parsing: "evaluators[2].name=x")])
        }
        #expect(listItem.contains { $0.contains("[index] needs a list written in the spec") }, "\(listItem)")
        let intoScalar = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml", overrides: [try SpecOverride(parsing: "name.first=x")])
        }
        #expect(intoScalar.contains { $0.contains("a key inside a scalar") }, "\(intoScalar)")
    }

    @Test func emptySeedRangesAndMalformedArgumentsAreRefused() throws {
        #expect(Self.diagnostics { try SeedRange(parsing: "4..2") }.first?.contains("is empty") == true)
        #expect(Self.diagnostics { try SeedRange(parsing: "0...4") }.first?.contains("not a seed") == true)
        #expect(try SeedRange(parsing: "7").count == 1)
        #expect(
            Self.diagnostics { try SpecOverride(parsing: "policy.sft.steps") }.first?.contains("path=value") == true)
        #expect(
            Self.diagnostics { try SpecOverride(parsing: "policy..steps=1") }.first?.contains("is not a dotted path")
                == true)
        #expect(Self.diagnostics { try SpecOverride(parsing: "a=1,,2") }.first?.contains("a value is empty") == true)
        let inFile = Self.diagnostics {
            try SpecGroup.expand(yaml: Self.base + "\nsweep: {seeds: 5..1, sets: {}}\n", file: "s.yaml")
        }
        #expect(inFile.contains { $0.contains("sweep.seeds") && $0.contains("is empty") }, "\(inFile)")
        #expect(inFile.contains { $0.contains("unknown key 'sets' — did you mean 'set'?") }, "\(inFile)")
    }

    @Test func moreThanAThousandRunsNeedsARaisedLimit() throws {
        let overrides = [
            SpecOverride(path: "policy.sft.learning_rate", values: (1...11).map { "\($0)e-4" }),
            SpecOverride(path: "policy.sft.steps", values: (1...10).map(String.init)),
        ]
        let problems = Self.diagnostics {
            try SpecGroup.expand(yaml: Self.base, file: "s.yaml", seeds: SeedRange(0...9), overrides: overrides)
        }
        #expect(problems.first?.contains("more than 1000 runs") == true, "\(problems)")
        #expect(problems.first?.contains("--max-runs") == true)
        let raised = try SpecGroup.expand(
            yaml: Self.base, file: "s.yaml", seeds: SeedRange(0...9), overrides: overrides, maximumRuns: 1100)
        #expect(raised.members.count == 1100)
    }

    /// A seed range is a few characters on the command line; it is counted, not written out, before the limit
    /// refuses it (0..300000000 took 36 s and 4.7 GB to refuse when its seeds were listed first).
    @Test func aHugeSeedRangeIsRefusedBeforeItsSeedsAreListed() throws {
        let whole = try SeedRange(parsing: "0..18446744073709551615")
        #expect(whole.count == Int.max && whole.countText == "18446744073709551616")
        #expect(try SeedRange(parsing: "5..9").countText == "5")
        for maximum in [nil, SpecGroup.maximumRunsLimit] {
            let problems = Self.diagnostics {
                try SpecGroup.expand(
                    yaml: Self.base, file: "s.yaml", seeds: whole,
                    overrides: [SpecOverride(path: "policy.sft.steps", values: ["1", "2"])], maximumRuns: maximum)
            }
            #expect(
                problems.first?.contains("(2 × policy.sft.steps, 18446744073709551616 × seed)") == true, "\(problems)")
        }
        for maximum in [0, SpecGroup.maximumRunsLimit + 1] {
            let problems = Self.diagnostics {
                try SpecGroup.expand(yaml: Self.base, file: "s.yaml", seeds: SeedRange(0...1), maximumRuns: maximum)
            }
            #expect(problems.first?.contains("--max-runs \(maximum) is out of range") == true, "\(problems)")
        }
    }

    @Test func aPathIsSetOnceAndAGroupVariesAtMostAHundred() throws {
        let twice = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml",
                overrides: [
                    try SpecOverride(parsing: "policy.sft.steps=1"), try SpecOverride(parsing: "policy.sft.steps=2"),
                ])
        }
        #expect(twice.first?.contains("--set policy.sft.steps is given twice") == true, "\(twice)")
        let seedTwice = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml", seeds: SeedRange(0...1),
                overrides: [try SpecOverride(parsing: "seed=4")])
        }
        #expect(seedTwice.first?.contains("--seeds and by --set seed") == true, "\(seedTwice)")
        // The sweep block's seeds count too; its `set` paths yield to the command line's, so they are not twice.
        let inBlock = Self.base + "\nsweep: {seeds: 0..1, set: {policy.sft.steps: [1, 2]}}\n"
        #expect(
            Self.diagnostics {
                try SpecGroup.expand(yaml: inBlock, file: "s.yaml", overrides: [try SpecOverride(parsing: "seed=4")])
            }.first?.contains("by sweep.seeds (s.yaml:5:16) and by --set seed=…") == true)
        let replaced = try SpecGroup.expand(
            yaml: inBlock, file: "s.yaml", overrides: [try SpecOverride(parsing: "policy.sft.steps=3")])
        #expect(replaced.members.map(\.label) == ["policy.sft.steps=3 seed=0", "policy.sft.steps=3 seed=1"])
        let many = (0...SpecGroup.maximumSettings).map { SpecOverride(path: "a\($0)", values: ["1"]) }
        let tooMany = Self.diagnostics { try SpecGroup.expand(yaml: Self.base, file: "s.yaml", overrides: many) }
        #expect(
            tooMany.first?.contains("sets 101 spec paths (--set and the sweep's set together); at most 100") == true,
            "\(tooMany)")
    }

    /// A problem in the spec's `sweep:` block is reported at its key (file:line:column) and worded for the spec, not
    /// as if it came from `--set` or `--seeds` (hostile testing found each of these worded for the command line).
    @Test func aSweepBlocksProblemIsReportedWhereItIsWritten() throws {
        func problems(_ sweep: String, seeds: SeedRange? = nil, overrides: [SpecOverride] = []) -> [String] {
            Self.diagnostics {
                try SpecGroup.expand(
                    yaml: Self.base + "\nsweep:\n" + sweep, file: "s.yaml", seeds: seeds, overrides: overrides)
            }
        }
        // Line 5 is `sweep:`; its keys are on line 6 and after.
        #expect(
            problems("  seeds: 0..1\n  set: {seed: [4]}\n").contains(
                "s.yaml:7:9: sweep.set: the seed is also given by sweep.seeds; use one of them"))
        #expect(
            problems("  set:\n    evaluators[5].name: [x]\n").contains(
                "s.yaml:7:5: sweep.set.evaluators[5].name: [index] needs a list written in the spec, which has no "
                    + "'evaluators'; write the list to edit an item"))
        #expect(
            problems("  set: {sweep.seeds: [\"0..1\"]}\n").contains(
                "s.yaml:6:9: sweep.set: the sweep cannot set itself: a group's members are single runs"))
        #expect(
            problems("  {}\n").contains(
                "s.yaml:6:3: sweep: the sweep varies nothing: give it seeds (0..2) or set (path: [values]), or remove it"
            ))
        #expect(
            problems("  set: {policy.sft.steps: [1]}\n  max_runs: 3\n  set: {policy.sft.steps: [2]}\n").contains {
                $0.hasPrefix("s.yaml:8:3: sweep.set: duplicate key")
            })
        // A value the spec refuses is reported at its key in the sweep, with the value that failed.
        #expect(
            problems("  set: {policy.sft.steps: [10, fast]}\n").contains(
                "s.yaml:6:9: policy.sft.steps: expected an integer in 0...1000000, found 'fast' (the sweep's value fast)"
            ))
        // Against the command line, each side is named where it was given.
        #expect(
            problems("  set: {seed: [1, 2]}\n", seeds: SeedRange(0...1)).first
                == "the seed is set by --seeds and by sweep.set seed (s.yaml:6:9); use one of them")
        #expect(
            problems("  seeds: 0..1\n", overrides: [try SpecOverride(parsing: "seed=4")]).first
                == "the seed is set by sweep.seeds (s.yaml:6:10) and by --set seed=…; use one of them")
        #expect(
            problems("  seeds: 0..1\n", overrides: [try SpecOverride(parsing: "sweep.seeds=0..3")]).first?.hasPrefix(
                "--set sweep.seeds: a group's members are single runs") == true)
    }

    @Test func valuesThatReadAlikeAreOneValue() {
        let problems = Self.diagnostics {
            try SpecGroup.expand(
                yaml: Self.base, file: "s.yaml",
                overrides: [try SpecOverride(parsing: "policy.sft.learning_rate=1e-3,0.001")])
        }
        #expect(
            problems.first?.contains(
                "members 'policy.sft.learning_rate=1e-3' and 'policy.sft.learning_rate=0.001' are the same run")
                == true,
            "\(problems)")
    }

    @Test func aSpecWithASweepIsNotOneRun() {
        let problems = Self.diagnostics {
            try ExperimentSpec.parse(yaml: Self.base + "\nsweep: {seeds: 0..1}\n", file: "s.yaml")
        }
        #expect(problems.contains { $0.contains("a sweep describes a group of runs") }, "\(problems)")
    }

    @Test func theReportBlockIsRecordedAndChecked() throws {
        let spec = try ExperimentSpec.parse(
            yaml: Self.base + """

                report:
                  baseline: sft/majority
                  n: 64
                  rows: [sft/weighted/verifier/prod, ppo/greedy, verifier/majority]
                """, file: "s.yaml")
        #expect(spec.report?.rows.map(\.description) == ["weighted/verifier/prod", "ppo/greedy", "verifier/majority"])
        #expect(spec.report?.request.baseline == RowReference(method: "majority"))
        let json = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        #expect(
            json.contains(#""report":{"baseline":"majority","claims":[],"n":64,"rows":["weighted/verifier/prod""#),
            "\(json)")
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
        // Without a report block the canonical JSON has no report key: existing hashes stay.
        #expect(
            !String(decoding: try ExperimentSpec.parse(yaml: Self.base, file: "s.yaml").canonicalJSON(), as: UTF8.self)
                .contains("report"))
        let problems = Self.diagnostics {
            try ExperimentSpec.parse(
                yaml: Self.base + """

                    report:
                      baseline: sft/majorty
                      n: 48
                      rows: [sft/weighted/verifer/prod, ppo/majority, sft/weighted/orm/median]
                    """, file: "s.yaml")
        }
        #expect(
            problems.contains { $0.contains("report.baseline") && $0.contains("did you mean 'majority'?") },
            "\(problems)")
        #expect(problems.contains { $0.contains("report.n") && $0.contains("N = 48 is not sampled") }, "\(problems)")
        #expect(
            problems.contains { $0.contains("report.rows[0]") && $0.contains("did you mean 'verifier'?") },
            "\(problems)")
        #expect(
            problems.contains { $0.contains("report.rows[1]") && $0.contains("majority voting is recorded for") },
            "\(problems)")
        #expect(
            problems.contains { $0.contains("report.rows[2]") && $0.contains("unknown aggregation 'median'") },
            "\(problems)")
    }

    @Test func theDefaultExperimentNamesItsHeadline() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../experiments/easy-to-hard.yaml")
        let spec = try ExperimentSpec.parse(yaml: String(contentsOf: url, encoding: .utf8), file: "easy-to-hard.yaml")
        let report = try #require(spec.report)
        #expect(report.baseline.description == "majority" && report.n == spec.sampling.poolSize)
        for evaluator in spec.evaluators.map(\.name) {
            #expect(report.rows.contains { $0.method == "weighted" && $0.evaluator == evaluator })
        }
        #expect(report.rows.contains { $0.method == "best_of_n" })
        #expect(report.rows.filter { $0.method == "greedy" }.map(\.policy) == ["sft", "verifier", "ppo", "rest_em"])
    }
}
