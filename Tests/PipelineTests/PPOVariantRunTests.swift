import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// The smoke run with `rl.ppo` as a list of the paper's ablations, the KL penalty and a GAE value model: every
/// variant becomes its own policy, the record is deterministic (twice, 1 and 2 threads, after a resume inside the
/// value model's training), and hard labels reach only the marked oracle.
@Suite struct PPOVariantRunTests {
    static let spec: ExperimentSpec = {
        var spec = RunExecutorTests.smoke
        spec.name = "ppo-variants"
        let base = spec.rl.ppo[0]
        func variant(_ name: String, iterations: Int, _ change: (inout PPOSpec) -> Void) -> PPOSpec {
            var variant = base
            variant.name = name
            variant.iterations = iterations
            change(&variant)
            return variant
        }
        spec.rl.ppo = [
            variant("ppo_easy", iterations: 2) {
                $0.questions = .easy
                $0.processRewardWeight = 0
            },
            // Six rounds with checkpoints every five: a resume point inside the value model's training.
            variant("ppo_gae", iterations: 6) {
                $0.klCoefficient = 0.05
                $0.advantages = .gae
                $0.gaeLambda = 0.9
            },
            variant("ppo_verifier", iterations: 2) { $0.processRewardEvaluator = "verifier" },
            // With GAE: group-relative advantages cancel a reward every sample of a question shares, so a hard
            // question all of whose samples flip under `hardVerdictsTrue` would leave a group variant unchanged.
            variant("ppo_hard_oracle", iterations: 2) {
                $0.outcomeRewards = .all
                $0.advantages = .gae
            },
        ]
        spec.rl.restEm.enabled = false
        return spec
    }()

    static let reference = RunExecutorTests.SharedRun(spec)

    @Test func everyVariantIsAPolicyWithItsCurve() async throws {
        let (recorder, outcome) = try await Self.reference.execution()
        guard case .completed(let summary) = outcome else {
            Issue.record("the run did not complete: \(outcome)")
            return
        }
        for name in ["ppo_easy", "ppo_gae", "ppo_verifier", "ppo_hard_oracle"] {
            #expect(summary.accuracy(policy: name, method: "greedy", n: 1, levels: [4, 5]) != nil, "\(name)")
        }
        #expect(summary.accuracy(policy: "ppo", method: "greedy", n: 1, levels: [4, 5]) == nil)
        let metrics = await recorder.metrics.map(\.name)
        for name in ["ppo_easy", "ppo_gae", "ppo_verifier", "ppo_hard_oracle"] {
            for figure in ["kl", "clip_fraction", "mean_return", "loss"] {
                #expect(metrics.contains("rl.\(name).\(figure)"), "rl.\(name).\(figure)")
            }
        }
        // Only the GAE variant has a value model.
        #expect(metrics.contains("rl.ppo_gae.value_loss") && !metrics.contains("rl.ppo_easy.value_loss"))
        #expect(metrics.contains("rl.ppo_gae.value_error") && !metrics.contains("rl.ppo_easy.value_error"))
        // The penalty made the GAE variant's returns differ from what its rewards alone would give: its KL is
        // measured on rollouts from a policy that moved.
        let kl = await recorder.metrics.filter { $0.name == "rl.ppo_gae.kl" }.map(\.value)
        #expect(kl.count == 6 && kl.allSatisfy(\.isFinite) && kl.last != 0)
        // The GAE variant's checkpoints name its value model's; the others name none.
        let checkpoints = try await recorder.events.filter { $0.type == CheckpointSaved.eventType }.map {
            try CheckpointSaved(decoding: $0)
        }
        let gae = checkpoints.filter { $0.model == "ppo_gae" }
        #expect(gae.map(\.step) == [20, 24] && gae.allSatisfy { $0.companion != nil })
        #expect(checkpoints.filter { $0.model == "ppo_easy" }.allSatisfy { $0.companion == nil })
    }

    /// A value model's checkpoint goes with its policy's: named by the same event, kept for the last checkpoint,
    /// pruned with an intermediate one once the stage has completed.
    @Test func retentionKeepsAndPrunesTheValueModelWithItsPolicy() async throws {
        let (recorder, _) = try await Self.reference.execution()
        let events = await recorder.events
        let blobs = await recorder.blobs
        let gae = try events.filter { $0.type == CheckpointSaved.eventType }.map { try CheckpointSaved(decoding: $0) }
            .filter { $0.model == "ppo_gae" }
        let (intermediate, last) = (try #require(gae.first?.companion), try #require(gae.last?.companion))
        let intermediatePolicy = try #require(gae.first?.blob)
        #expect(blobs[intermediate] != nil && blobs[last] != nil && intermediate != last)
        let plan = try RetentionPolicy(mode: .standard).plan(events: events, stageOutputs: blobs)
        #expect(plan.named.contains(intermediate) && plan.kept.contains(last))
        #expect(plan.prunable.contains(intermediate) && plan.prunable.contains(intermediatePolicy))
    }

    @Test func theRecordIsTheSameTwiceAndOnOneThread() async throws {
        let (reference, _) = try await Self.reference.execution()
        let expected = RunExecutorTests.deterministicPart(await reference.events)
        let again = InMemoryRecorder()
        _ = try await RunExecutorTests.execute(Self.spec, recorder: again)
        #expect(RunExecutorTests.deterministicPart(await again.events) == expected)
        let single = InMemoryRecorder()
        _ = try await RunExecutorTests.execute(Self.spec, recorder: single, threads: 1)
        #expect(RunExecutorTests.deterministicPart(await single.events) == expected)
    }

    /// Stopped after the GAE variant's first checkpoint (round 5 of 6), the run resumes policy and value model
    /// from it and finishes with the uninterrupted record.
    @Test func aRunStoppedInsideTheValueModelsTrainingResumesToTheSameRecord() async throws {
        let (reference, _) = try await Self.reference.execution()
        let first = InMemoryRecorder(stopWhen: { events, _, _ in
            events.contains {
                $0.type == CheckpointSaved.eventType
                    && String(decoding: $0.payload, as: UTF8.self).contains("\"ppo_gae\"")
            }
                ? .shutdown : nil
        })
        #expect(try await RunExecutorTests.execute(Self.spec, recorder: first) == .stopped(.shutdown))
        let resumed = await InMemoryRecorder(resuming: first)
        _ = try await RunExecutorTests.execute(Self.spec, recorder: resumed)
        #expect(
            RunExecutorTests.deterministicPart(await resumed.events)
                == RunExecutorTests.deterministicPart(await reference.events))
    }

    /// With every hard verdict true (the smoke policy solves almost no hard problem, so wrong hard labels would
    /// change little), only the oracle variant — marked by its name — changes: its checkpoints, its own scores and
    /// the RL stage's outputs that name its weights. The other variants never read a hard label.
    @Test func onlyTheMarkedOracleReadsHardLabels() async throws {
        let leaks = try await RunExecutorTests.leaks(
            Self.spec, under: .hardVerdictsTrue, clean: try await Self.reference.deterministicEvents())
        #expect(leaks.contains { $0.contains("rl/ppo_hard_oracle checkpoint") }, "\(leaks)")
        #expect(
            leaks.allSatisfy {
                $0.contains("ppo_hard_oracle") || $0.contains("outputs of stage rl")
            }, "\(leaks)")
    }
}
