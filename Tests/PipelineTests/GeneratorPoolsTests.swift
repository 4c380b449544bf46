import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// `rerank.generators`: every easy-trained evaluator reranks the test pools of other easy-only generators too (the
/// best SFT checkpoint, the verifier as a policy, PPO, ReST-EM), so "the evaluator beats its own generator's
/// majority vote" is measured per generator. Checked as the parser reads it and in the smoke run.
@Suite struct GeneratorPoolsTests {
    typealias Run = RunExecutorTests

    static let spec: ExperimentSpec = {
        var spec = Run.smoke
        spec.rerank.generators = ["sft_best", "verifier", "ppo", "rest_em"]
        return spec
    }()

    static func parse(_ generators: String, report: String = "") throws -> ExperimentSpec {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../experiments/smoke.yaml")
        var yaml = try String(contentsOf: url, encoding: .utf8)
        yaml = yaml.replacingOccurrences(
            of: "  resamples: 4\n", with: "  resamples: 4\n  generators: \(generators)\n")
        return try ExperimentSpec.parse(yaml: yaml + report, file: "smoke.yaml")
    }

    static func messages(_ body: () throws -> Void) -> [String] {
        do {
            try body()
            return []
        } catch let error as PipelineError {
            return error.diagnostics.map { "\($0.keyPath): \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    // MARK: the spec

    @Test func theParserAdmitsEasyOnlyGeneratorsTheRunTrainsAndNothingElse() throws {
        #expect(Run.smoke.rerankableGenerators == ["sft_best", "verifier", "ppo", "rest_em"])
        #expect(try Self.parse("[sft_best, verifier, ppo, rest_em]").rerank == Self.spec.rerank)
        let refused = Self.messages { _ = try Self.parse("[sft, {a: 1}, ppo_oracle, rest_em_0, verifier, verifier]") }
        #expect(refused.contains { $0.hasPrefix("rerank.generators[0]") && $0.contains("always reranked") })
        #expect(refused.contains { $0.hasPrefix("rerank.generators[1]") && $0.contains("found a mapping") })
        #expect(refused.contains { $0.hasPrefix("rerank.generators[2]") && $0.contains("is an oracle") })
        #expect(
            refused.contains {
                $0.hasPrefix("rerank.generators[3]") && $0.contains("did you mean 'rest_em'")
            })
        #expect(refused.contains { $0.hasPrefix("rerank.generators[5]") && $0.contains("listed twice") })
        #expect(refused.count == 5, "\(refused)")
    }

    @Test func theCanonicalSpecNamesGeneratorsOnlyWhenThereAreSome() throws {
        let plain = String(decoding: Run.smoke.canonicalJSON(), as: UTF8.self)
        #expect(!plain.contains("generators"))
        let with = Self.spec.canonicalJSON()
        #expect(
            String(decoding: with, as: UTF8.self).contains(#""generators":["sft_best","verifier","ppo","rest_em"]"#))
        #expect(try ExperimentSpec(canonicalJSON: with) == Self.spec)
    }

    @Test func aReportMayNameAGeneratorsRerankedRowsOnlyWhenItIsListed() throws {
        let report =
            "report: {rows: [verifier/weighted/orm/final@4, rest_em/majority, ppo/pass@2], baseline: sft/majority}\n"
        #expect(try Self.parse("[verifier, rest_em, ppo]", report: report).report?.rows.count == 3)
        let refused = Self.messages { _ = try Self.parse("[verifier]", report: report) }
        #expect(refused.contains { $0.contains("majority voting is recorded for") })
        #expect(refused.contains { $0.contains("pass@N is recorded for sft, verifier only") })
        #expect(refused.count == 2, "\(refused)")
    }

    // MARK: the run

    @Test func everyGeneratorsPoolIsRerankedByEveryEasyTrainedEvaluatorAndNothingBeforeChanges() async throws {
        let recorder = InMemoryRecorder()
        _ = try await Run.execute(Self.spec, recorder: recorder, threads: 2)
        let events = Run.deterministicPart(await recorder.events)
        let reference = Run.deterministicPart(try await Run.referenceRun.value().events)
        let scores = try events.filter { $0.type == ScoreRecorded.eventType }.map { try ScoreRecorded(decoding: $0) }

        // Everything up to the evaluate stage is the smoke run's, byte for byte, and so are its greedy rows.
        let evaluateStart = try #require(
            reference.firstIndex {
                $0.type == StageStarted.eventType && (try? StageStarted(decoding: $0))?.stage == .evaluate
            })
        #expect(Array(events.prefix(evaluateStart + 1)) == Array(reference.prefix(evaluateStart + 1)))
        let referenceScores = try reference.filter { $0.type == ScoreRecorded.eventType }.map {
            try ScoreRecorded(decoding: $0)
        }
        #expect(Set(referenceScores).isSubset(of: Set(scores)))

        let spec = Self.spec
        let levels = spec.task.levels
        for generator in spec.rerank.generators {
            let rows = scores.filter { $0.policy == generator && $0.stage == .evaluate && $0.method != "greedy" }
            func count(_ method: String, _ evaluator: String = "none") -> Int {
                rows.filter { $0.method == method && $0.evaluator == evaluator }.count
            }
            let perMethod = levels.count * spec.sampling.n.count
            #expect(count("pass") == perMethod, "\(generator)")
            // A verifier's majority rows were recorded in the evaluators stage, from the same pool.
            #expect(count("majority") == (generator == "verifier" ? 0 : perMethod), "\(generator)")
            for evaluator in spec.evaluators {
                let aggregations = spec.rerank.aggregations.filter { $0.applies(to: evaluator.kind) }.count
                #expect(count("weighted", evaluator.name) == perMethod * aggregations, "\(generator) \(evaluator.name)")
                #expect(
                    count("best_of_n", evaluator.name) == perMethod * aggregations, "\(generator) \(evaluator.name)")
            }
        }
        // The verifier's pool is the one its majority rows were counted on: the same stream, the same samples.
        let pools = try events.filter { $0.type == SamplesGenerated.eventType }.map {
            try SamplesGenerated(decoding: $0)
        }.filter { $0.policy == "verifier" && $0.set == "test" }
        let first = pools.filter { $0.stage == .evaluators }.map(\.blob)
        #expect(!first.isEmpty && first == pools.filter { $0.stage == .evaluate }.map(\.blob))
        // Every row of the record has a key of its own.
        let keys = scores.map {
            "\($0.policy)/\($0.method)/\($0.evaluator)/\($0.aggregation)@\($0.n) level \($0.level)"
        }
        #expect(Set(keys).count == keys.count)
        // Different generators, different pools.
        let pass = { (policy: String) in
            scores.filter { $0.policy == policy && $0.method == "pass" }.map(\.outcomes)
        }
        #expect(pass("ppo") != pass("rest_em"))
    }

    /// With every hard verdict right, only test scores change: no generator's pool or reranking reads a hard label.
    @Test func hardLabelsReachTheGeneratorPoolsOnlyThroughScores() async throws {
        let leaks = try await Run.leaks(Self.spec, under: .hardVerdictsTrue)
        #expect(leaks == [])
    }
}
