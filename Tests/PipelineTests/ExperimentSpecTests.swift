import Analysis
import Foundation
import NeuralEngine
import Testing

@testable import Pipeline

@Suite struct ExperimentSpecTests {
    /// The error a spec is refused with.
    private func refusal(_ yaml: String, file: String) throws -> PipelineError {
        try #require(throws: PipelineError.self) { try ExperimentSpec.parse(yaml: yaml, file: file) }
    }

    @Test func minimalSpecGetsEveryDefault() throws {
        let spec = try ExperimentSpec.parse(yaml: "name: tiny\n", file: "tiny.yaml")
        #expect(spec.name == "tiny")
        #expect(spec.threads == 2)
        #expect(spec.task.family == .runningSum)
        #expect(spec.task.nonTrivialSteps == [2, 3, 4, 6, 8])
        #expect(spec.evaluators.map(\.name) == ["orm", "prm", "oprm", "verifier"])
        #expect(spec.rerank.methods == [.majority, .weighted, .bestOfN])
        // Defaults are part of the record: they appear in the canonical JSON.
        let json = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        #expect(json.contains("\"learning_rate\":0.001"))
        #expect(json.contains("\"checkpoint_interval\":25"))
    }

    @Test(arguments: ["smoke.yaml", "easy-to-hard.yaml"])
    func theExampleExperimentsAreValid(file: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../experiments/\(file)")
        let spec = try ExperimentSpec.parse(yaml: String(contentsOf: url, encoding: .utf8), file: file)
        #expect(spec.task.hardLevels == [4, 5])
        #expect(spec.evaluators.contains { $0.kind == .generative && $0.labels == .easy })
    }

    static let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../experiments")

    static func group(_ file: String) throws -> SpecGroup {
        try SpecGroup.expand(
            yaml: try String(contentsOf: experiments.appendingPathComponent(file), encoding: .utf8), file: file)
    }

    static func recipe() throws -> ExperimentSpec {
        try ExperimentSpec.parse(
            yaml: String(contentsOf: experiments.appendingPathComponent("easy-to-hard.yaml"), encoding: .utf8),
            file: "easy-to-hard.yaml")
    }

    /// `spec.report.rows` with `rows` inserted after `row`.
    static func insert(_ rows: [String], after row: String, in spec: inout ExperimentSpec) throws {
        let index = try #require(spec.report?.rows.firstIndex(of: try RowReference(parsing: row))) + 1
        spec.report?.rows.insert(contentsOf: try rows.map { try RowReference(parsing: $0) }, at: index)
    }

    /// The claims spec is a group of three seeds of the default recipe, plus likelihood voting (the control its
    /// claims name) and PPO's ablations as variants (the recipe's PPO first, under its own name), whose report
    /// names the paper's claims.
    static func paperClaims(claims: [Claim], ppoCheckpoint: CheckpointChoice = .last) throws -> ExperimentSpec {
        var recipe = try recipe()
        recipe.name = "paper-claims"
        recipe.report?.claims = claims
        recipe.rerank.methods = [.majority, .likelihood, .weighted, .bestOfN]
        recipe.report?.rows.insert(try RowReference(parsing: "sft/likelihood"), at: 1)
        var ppo = recipe.rl.ppo[0]
        ppo.checkpoint = ppoCheckpoint
        func variant(_ name: String, _ change: (inout PPOSpec) -> Void = { _ in }) -> PPOSpec {
            var variant = ppo
            variant.name = name
            change(&variant)
            return variant
        }
        recipe.rl.ppo = [
            variant("ppo"),
            variant("ppo_easy") {
                $0.questions = .easy
                $0.processRewardWeight = 0
            },
            variant("ppo_verifier") { $0.processRewardEvaluator = "verifier" },
            variant("ppo_oracle") { $0.outcomeRewards = .all },
            variant("ppo_kl_gae") {
                $0.klCoefficient = 0.05
                $0.advantages = .gae
            },
        ]
        try insert(
            ["ppo_easy/greedy", "ppo_verifier/greedy", "ppo_kl_gae/greedy", "ppo_oracle/greedy"], after: "ppo/greedy",
            in: &recipe)
        return recipe
    }

    @Test func thePaperClaimsGroupIsValidAndDiffersFromTheDefaultOnlyByItsNameAndItsControls() throws {
        let group = try Self.group("paper-claims.yaml")
        #expect(group.members.map(\.spec.seed) == [0, 1, 2])
        let claims = try #require(group.members[0].spec.report?.claims)
        #expect(claims.count >= 10 && claims.contains { $0.name.hasPrefix("central") })
        #expect(group.members[0].spec == (try Self.paperClaims(claims: claims)))
    }

    /// The extended claims spec is the claims spec with PPO's checkpoints chosen on validation, an ORM from the
    /// format-only base, the other easy-only generators' pools reranked, and claims added to the claims spec's.
    @Test func theExtendedClaimsSpecIsTheClaimsSpecWithGeneratorsAndAFormatBase() throws {
        let group = try Self.group("paper-claims-generators.yaml")
        #expect(group.members.map(\.spec.seed) == [0, 1, 2])
        let claims = try #require(group.members[0].spec.report?.claims)
        let original = try #require(try Self.group("paper-claims.yaml").members[0].spec.report?.claims)
        #expect(Array(claims.filter { original.contains($0) }) == original)
        #expect(claims.count == original.count + 10)
        var expected = try Self.paperClaims(claims: claims, ppoCheckpoint: .bestValidation)
        expected.name = "paper-claims-generators"
        var ormFormat = expected.evaluators[0]
        ormFormat.name = "orm_format"
        ormFormat.initialization = .format
        expected.evaluators.append(ormFormat)
        expected.rerank.generators = ["sft_best", "verifier", "rest_em"]
        try Self.insert(["sft/weighted/orm_format/final"], after: "sft/weighted/verifier/prod", in: &expected)
        try Self.insert(
            [
                "sft_best/majority", "sft_best/weighted/orm/final", "sft_best/weighted/verifier/prod",
                "rest_em/majority", "rest_em/weighted/verifier/prod", "verifier/majority",
                "verifier/weighted/verifier/prod",
            ], after: "sft/best_of_n/verifier/prod", in: &expected)
        #expect(group.members[0].spec == expected)
    }

    /// The large-pool group is the default recipe's task, policy and evaluators with pools of 256, 32 resamples
    /// and no RL; its claims compare N = 256 with N = 64 and weighted voting with best-of-N at N = 256.
    @Test func theLargePoolGroupIsTheDefaultRecipeAtNUpTo256WithoutRL() throws {
        let group = try Self.group("large-pools.yaml")
        #expect(group.members.map(\.spec.seed) == [0, 1, 2])
        let spec = group.members[0].spec
        var expected = try Self.recipe()
        #expect(spec.rl.trainedPPO.isEmpty && !spec.rl.restEm.enabled && spec.rl.dpo == expected.rl.dpo)
        expected.name = "large-pools"
        expected.sampling.n = [1, 4, 16, 64, 256]
        expected.rerank.methods = [.majority, .likelihood, .weighted, .bestOfN]
        expected.rerank.aggregations = [.prod, .final]
        expected.rerank.resamples = 32
        expected.rl = spec.rl
        let report = try #require(spec.report)
        let majority = try RowReference(parsing: "sft/majority")
        #expect(report.n == 256 && report.baseline == majority)
        #expect(report.claims.count == 9)
        expected.report = report
        #expect(spec == expected)
    }

    /// The PPO-settings sweep is the default recipe once per learning rate, with PPO's checkpoint chosen on
    /// validation (the figure `select` reads) and nothing else changed.
    @Test func thePPOSettingsSweepIsTheDefaultRecipeOncePerLearningRate() throws {
        let group = try Self.group("ppo-settings.yaml")
        let recipe = try Self.recipe()
        #expect(group.members.map { $0.spec.rl.ppo[0].learningRate } == [0.00001, 0.00003])
        for member in group.members {
            var expected = recipe
            expected.name = "ppo-settings"
            expected.rl.ppo[0].checkpoint = .bestValidation
            expected.rl.ppo[0].learningRate = member.spec.rl.ppo[0].learningRate
            #expect(member.spec == expected)
        }
    }

    @Test func keyOrderCommentsAndSpelledOutDefaultsHashTheSame() throws {
        let first = try ExperimentSpec.parse(
            yaml: """
                name: e1
                seed: 7
                task:
                  family: running_sum
                  hard_levels: [4, 5]
                """, file: "a.yaml")
        let second = try ExperimentSpec.parse(
            yaml: """
                # the same experiment, written differently
                task: {hard_levels: [4,5], easy_levels: [1, 2, 3]}   # easy levels are the default
                seed: 7
                name: "e1"
                threads: 2
                """, file: "b.yaml")
        #expect(first == second)
        #expect(first.canonicalHash == second.canonicalHash)
        #expect(first.canonicalHash.count == 64)
        let other = try ExperimentSpec.parse(yaml: "name: e1\nseed: 8\n", file: "c.yaml")
        #expect(other.canonicalHash != first.canonicalHash)
    }

    @Test func canonicalJSONRoundTrips() throws {
        let spec = try ExperimentSpec.parse(
            yaml: "name: round\nseed: 3\nrl: {ppo: {iterations: 5, epochs: 3}}\n", file: "r.yaml")
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
    }

    @Test func reportsEveryErrorAtOnceWithLocationsAndSuggestions() throws {
        let yaml = """
            name: bad
            seed: -4
            policy:
              sft:
                lerning_rate: 0.1
                steps: many
            sampling:
              n: [1, 4, 2]
            task:
              family: runing_sum
              easy_levels: [1, 2, 3, 4]
            evaluators:
              - name: x
                kind: prm
                labls: easy
            """
        let error = try refusal(yaml, file: "bad.yaml")
        #expect(error.code == .invalidSpec)
        let lines = error.diagnostics.map(\.description)
        #expect(lines.contains { $0.hasPrefix("bad.yaml:2:7: seed: expected a non-negative integer") })
        #expect(
            lines.contains(
                "bad.yaml:5:5: policy.sft.lerning_rate: unknown key 'lerning_rate' — did you mean 'learning_rate'?"))
        #expect(lines.contains { $0.hasPrefix("bad.yaml:6:12: policy.sft.steps: expected an integer") })
        #expect(lines.contains { $0.hasPrefix("bad.yaml:8:6: sampling.n: expected a non-empty increasing list") })
        #expect(lines.contains("bad.yaml:10:11: task.family: unknown value 'runing_sum' — did you mean 'running_sum'?"))
        #expect(lines.contains { $0.contains("task.hard_levels: level 4 is both easy and hard") })
        #expect(
            lines.contains {
                $0.hasPrefix("bad.yaml:15:5: evaluators[0].labls: unknown key 'labls' — did you mean 'labels'?")
            })
        #expect(error.diagnostics.count == 7, "\(lines.joined(separator: "\n"))")
    }

    @Test func duplicateKeysAndMissingNameAreReported() throws {
        let error = try refusal("seed: 1\nseed: 2\n", file: "d.yaml")
        let lines = error.diagnostics.map(\.description)
        #expect(lines.contains("d.yaml:2:1: seed: duplicate key 'seed'"))
        #expect(lines.contains { $0.contains("name: missing required key 'name'") })
    }

    @Test func processRewardMustComeFromAnEasyTrainedEvaluator() throws {
        let error = try #require(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml: """
                    name: ceiling
                    evaluators:
                      - {name: prm, kind: prm, labels: all}
                    rl: {ppo: {process_reward_evaluator: prm}}
                    """, file: "c.yaml")
        }
        #expect(error.diagnostics.map(\.keyPath) == ["rl.ppo.process_reward_evaluator"])
    }

    @Test func ppoMinibatchesMustDivideTheRollout() throws {
        let yaml = "name: m\nrl: {ppo: {problems_per_iteration: 3, samples_per_problem: 2, minibatches: 4}}\n"
        let error = try refusal(yaml, file: "m.yaml")
        #expect(error.diagnostics.map(\.keyPath) == ["rl.ppo.minibatches"])
        #expect(error.diagnostics.first?.message.contains("6 rows per rollout") == true)
    }

    /// A run of it would fail only after its dataset was dealt, with nothing to resume from.
    @Test func sftOfNoStepsIsRefusedAtItsKey() throws {
        let error = try refusal("name: s\npolicy:\n  sft: {steps: 0}\n", file: "s.yaml")
        #expect(
            error.diagnostics.map(\.description) == [
                "s.yaml:3:16: policy.sft.steps: SFT of 0 steps saves no checkpoint, and every later stage starts from one — set steps to 1 or more"
            ])
        #expect(throws: Never.self) {
            try ExperimentSpec.parse(yaml: "name: s\npolicy:\n  sft: {steps: 1}\n", file: "s.yaml")
        }
    }

    /// An evaluator's name is a part of its rows: `name: sft` recorded the verifier's votes as the SFT policy's rows,
    /// and `a/b` made rows nobody could name.
    @Test(arguments: [
        "sft", "ppo", "sft_best", "sft_oracle", "rest_em", "rest_em_1", "dpo_orm", "none", "majority",
        "a/b", "\"\"", "Orm", "2x",
    ])
    func anEvaluatorNameThatIsNotAnIdentifierOfItsOwnIsRefused(_ name: String) throws {
        let yaml = "name: e\nevaluators:\n  - {name: \(name), kind: generative}\n"
        let error = try refusal(yaml, file: "e.yaml")
        #expect(error.diagnostics.map(\.keyPath) == ["evaluators[0].name"], "\(name): \(error.diagnostics)")
        _ = try ExperimentSpec.parse(
            yaml: "name: e\nevaluators:\n  - {name: verifier_2, kind: generative}\n", file: "e.yaml")
    }

    /// Majority voting is every comparison's baseline; weighted voting and best-of-N need an aggregation to record.
    @Test func theRerankMethodsIncludeMajorityAndWhatTheyNeed() throws {
        for (rerank, key) in [
            ("{methods: [weighted]}", "rerank.methods"),
            ("{methods: [majority, best_of_n], aggregations: []}", "rerank.aggregations"),
        ] {
            let error = try refusal("name: r\nrerank: \(rerank)\n", file: "r.yaml")
            #expect(error.diagnostics.map(\.keyPath) == [key], "\(rerank): \(error.diagnostics)")
        }
        _ = try ExperimentSpec.parse(yaml: "name: r\nrerank: {methods: [majority], aggregations: []}\n", file: "r.yaml")
    }

    /// References are compared as `compare` resolves them (N from `report.n`, else the largest; greedy's is 1): a claim
    /// of `majority@2` against `majority` at n 2 compared a row with itself, and every compare of its run failed.
    @Test func aReportNamesEachRowAndEachClaimOnce() throws {
        let yaml = """
            name: r
            sampling: {n: [1, 2, 4]}
            report:
              rows: [majority, sft/majority@2, greedy, sft/greedy@1]
              baseline: majority
              n: 2
              claims:
                - {name: c, row: majority@2, versus: majority}
                - {name: d, row: weighted/prm/prod, versus: majority}
                - {name: d, row: weighted/orm/prod, versus: majority}
            """
        let error = try refusal(yaml, file: "r.yaml")
        #expect(
            error.diagnostics.map(\.keyPath) == [
                "report.rows[1]", "report.rows[3]", "report.claims[0].versus", "report.claims[2].name",
            ], "\(error.diagnostics)")
    }

    @Test func aRowOfAPPOVariantThatTrainsNothingSaysSo() throws {
        let yaml = """
            name: p
            rl:
              ppo:
                - {name: a}
                - {name: b, enabled: false}
            report: {rows: [b/greedy], baseline: majority}
            """
        let error = try refusal(yaml, file: "p.yaml")
        #expect(
            error.diagnostics.map(\.message) == [
                "row 'b/greedy': the PPO variant 'b' trains nothing (enabled: false or iterations: 0), so it records no rows"
            ])
    }

    /// libyaml's words for both said nothing of what to do.
    @Test func aTabOrAMergeKeySaysWhatToWriteInstead() throws {
        let tab = try refusal("name: t\npolicy:\n\tmodel: {layers: 2}\n", file: "t.yaml")
        #expect(
            tab.diagnostics.map(\.description) == [
                "t.yaml:3:1: (document): a tab cannot indent YAML or start a value: use spaces"
            ])
        let merge = try #require(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml:
                    "name: m\npolicy:\n  sft: &s {steps: 5}\nrl:\n  rest_em:\n    optimization: {<<: *s, batch_size: 4}\n",
                file: "m.yaml")
        }
        #expect(merge.diagnostics.map(\.keyPath) == ["rl.rest_em.optimization.<<"], "\(merge.diagnostics)")
        #expect(merge.diagnostics.first?.message.hasPrefix("merge keys ('<<') are not read") == true)
    }

    /// `seed: !!str 5` was read as the integer 5: a tag is refused where it is written, on a value or a collection.
    @Test func aTagIsRefusedNotIgnored() throws {
        for (yaml, position) in [
            ("name: t\nseed: !!str 5\n", "t.yaml:2:7"), ("name: t\npolicy: !!map {sft: {steps: 5}}\n", "t.yaml:2:9"),
            ("name: t\nseed: !custom 5\n", "t.yaml:2:7"),
        ] {
            let error = try refusal(yaml, file: "t.yaml")
            #expect(
                error.diagnostics.map(\.description).first?.hasPrefix("\(position): (document): the tag '") == true,
                "\(error.diagnostics)")
            #expect(
                error.diagnostics.first?.message.hasSuffix("write the value without it (quote it for text)") == true)
        }
    }

    @Test func syntaxErrorsAreLocated() throws {
        let error = try refusal("name: x\ntask: [1, 2\n", file: "s.yaml")
        let diagnostic = try #require(error.diagnostics.first)
        #expect(diagnostic.file == "s.yaml")
        #expect(diagnostic.line >= 2)
    }

    @Test func billionLaughsIsBounded() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        let error = try refusal(yaml, file: "lol.yaml")
        #expect(error.diagnostics.first?.message.contains("alias expansion") == true)
    }

    @Test func deepNestingAndHugeInputAreRejected() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let nested = try refusal(deep, file: "deep.yaml")
        #expect(nested.diagnostics.first?.message.contains("nesting") == true)
        let huge = "name: x\n# " + String(repeating: "y", count: 2 << 20) + "\n"
        let big = try refusal(huge, file: "big.yaml")
        #expect(big.diagnostics.first?.message.contains("limit") == true)
    }

    @Test func randomAndMutatedInputsNeverCrash() throws {
        let valid = """
            name: fuzz
            seed: 1
            task: {family: sparse_addition, easy_levels: [1, 2], hard_levels: [4, 5]}
            policy:
              model: {layers: 1, width: 32, heads: 2}
              sft: {steps: 10, batch_size: 4}
            sampling: {n: [1, 2, 4], temperature: 0.8}
            evaluators:
              - &v {name: v, kind: generative}
            rerank: {methods: [majority, weighted], aggregations: [min, prod]}
            """
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        _ = try ExperimentSpec.parse(yaml: valid, file: "valid.yaml")
        var outcomes = (parsed: 0, rejected: 0)
        let base = Array(valid.utf8)
        let alphabet = Array(":-[]{}&*!|>'\"#%@`,? \n\t0aZ\u{0}".utf8) + [0xC3, 0xFF, 0xFE, 0x80]
        for trial in 0..<1500 {
            var bytes: [UInt8]
            if trial % 3 == 0 {
                bytes = (0..<Int(next() % 200)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = base
                for _ in 0..<(1 + Int(next() % 6)) {
                    let position = Int(next() % UInt64(bytes.count + 1))
                    switch next() % 3 {
                    case 0 where position < bytes.count: bytes.remove(at: position)
                    case 1: bytes.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: position)
                    default:
                        if position < bytes.count { bytes[position] = alphabet[Int(next() % UInt64(alphabet.count))] }
                    }
                }
            }
            do {
                _ = try ExperimentSpec.parse(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
                outcomes.parsed += 1
            } catch let error as PipelineError {
                #expect(error.code == .invalidSpec && !error.diagnostics.isEmpty)
                outcomes.rejected += 1
            }
        }
        #expect(outcomes.parsed > 0 && outcomes.rejected > 0)
    }
}
