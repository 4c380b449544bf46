import Canonical
import Foundation
import Logging
import NeuralEngine
import WireTypes

/// Runs an experiment's stages in order, recording each as events, and resumes from the record.
///
/// Completed stages are skipped (their outputs read back from blobs); an interrupted stage is
/// re-executed deterministically, its training loops restored from their latest checkpoint and its
/// recorded sample chunks reused; events history already holds are compared, not appended again.
public struct RunExecutor: Sendable {
    public let spec: ExperimentSpec
    public let recorder: any RunRecorder
    public let threads: Int
    /// The cores this run shares with others executing in the same process (a daemon's workers).
    public let share: CoreShare?
    public let logger: Logger
    /// Test hook: labels altered on purpose, to show where they reach (`LeakageCheck`).
    var counterfactual: Counterfactual?
    /// Test hook: a leak the leakage check must catch.
    var leak: DeliberateLeak?
    /// How often the long loops poll for a stop and report progress; tests make it fine-grained.
    var pacing = Pacing()

    /// `threads` overrides the spec's; results do not depend on it, nor on `share`.
    public init(
        spec: ExperimentSpec, recorder: any RunRecorder, threads: Int? = nil, share: CoreShare? = nil, logger: Logger
    ) {
        self.spec = spec
        self.recorder = recorder
        self.threads = threads ?? spec.threads
        self.share = share
        self.logger = logger
    }

    /// Runs the experiment on compute threads of its own (see `ComputePool.run`). Cancelling the calling task
    /// makes the run throw `CancellationError` at its next poll, without a stop checkpoint.
    public func run() async throws -> RunOutcome {
        let compute = ComputePool(threads: threads, share: share)
        return try await compute.run { try await self.execute(on: compute) }
    }

    private func execute(on compute: ComputePool) async throws -> RunOutcome {
        let log = try await RunLog(recorder: recorder)
        let context = RunContext(
            spec: spec, log: log, compute: compute, logger: logger, counterfactual: counterfactual, leak: leak,
            pacing: pacing)
        do {
            let dataset = try await stage(.split, context) { try await SplitStage.run(context) }
            let sft = try await stage(.sft, context) { try await SFTStage.run(context, dataset: dataset) }
            let policy = try await context.log.model(
                sft.checkpoint, recordedAs: .checkpoint, what: "the selected SFT checkpoint")
            let samples = try await stage(.sample, context) {
                try await SampleStage.run(context, dataset: dataset, policy: policy)
            }
            let evaluators = try await stage(.evaluators, context) {
                try await EvaluatorStage.run(context, dataset: dataset, policy: policy, samples: samples)
            }
            _ = try await stage(.rerank, context) {
                try await RerankStage.run(
                    context, dataset: dataset, policy: policy, samples: samples, evaluators: evaluators)
            }
            let rl = try await stage(.rl, context) {
                try await RLStage.run(context, dataset: dataset, policy: policy, evaluators: evaluators)
            }
            _ = try await stage(.evaluate, context) {
                var controls: [(policy: String, model: Transformer)] = []
                if let best = sft.best {
                    controls.append(
                        (
                            SFTStage.bestControl,
                            try await context.log.model(
                                best.checkpoint, recordedAs: .checkpoint, what: "the best SFT checkpoint")
                        ))
                }
                if let ceiling = sft.ceiling {
                    controls.append(
                        (
                            SFTStage.ceilingPolicy,
                            try await context.log.model(ceiling, recordedAs: .weights, what: "the SFT ceiling")
                        ))
                }
                return try await EvaluateStage.run(
                    context, dataset: dataset, policy: policy, controls: controls,
                    generators: try await rerankedGenerators(
                        sft: sft, evaluators: evaluators, rl: rl, context: context),
                    evaluators: evaluators)
            }
        } catch let stop as StopSignal {
            return .stopped(stop.reason)
        }
        let scores = try log.eventsSoFar().filter { $0.type == ScoreRecorded.eventType }.map {
            try ScoreRecorded(decoding: $0)
        }
        return .completed(
            RunSummary(scores: scores, easyLevels: spec.task.easyLevels, hardLevels: spec.task.hardLevels))
    }

    /// Runs one stage, or reads its outputs back when the record shows it completed.
    private func stage<Output: Codable & Sendable>(
        _ name: StageName, _ context: RunContext, body: () async throws -> Output
    ) async throws -> Output {
        let log = context.log
        if let (index, completed) = try log.recordedCompletion(of: name) {
            log.skip(through: index)
            do {
                return try CanonicalJSON.decode(Output.self, from: try await log.blob(completed.outputs))
            } catch let error as PipelineError {
                throw error
            } catch {
                throw PipelineError(
                    code: .corruptHistory, message: "the recorded outputs of stage \(name.rawValue) do not decode",
                    cause: error)
            }
        }
        try await context.pollStop()
        let started = Date()
        logger.info("stage \(name.rawValue): starting")
        try await log.emit(StageStarted(stage: name))
        let output = try await body()
        let blob = try await log.putBlob(try CanonicalJSON.encode(output))
        let seconds = Date().timeIntervalSince(started)
        try await log.emit(StageCompleted(stage: name, outputs: blob), volatile: ["seconds": .number(seconds)])
        logger.info("stage \(name.rawValue): completed in \(String(format: "%.1f", seconds)) s")
        return output
    }

    /// The models of `rerank.generators`, in its order, from the stages that trained them.
    private func rerankedGenerators(
        sft: SFTStage.Output, evaluators: EvaluatorStage.Output, rl: RLStage.Output, context: RunContext
    ) async throws -> [(policy: String, model: Transformer)] {
        var weights: [String: String] = [:]
        for evaluator in evaluators.evaluators where evaluator.kind == .generative {
            weights[evaluator.name] = evaluator.weights
        }
        if let single = rl.ppo, let variant = spec.rl.trainedPPO.first { weights[variant.policyName] = single }
        for variant in rl.ppoVariants ?? [] { weights[variant.name] = variant.weights }
        if let restEM = rl.restEm, let name = spec.rl.restEm.policyNames.last { weights[name] = restEM }
        for (ranking, blob) in zip(spec.rl.dpo.rankings, rl.dpo ?? []) { weights[ranking.policyBase] = blob }
        var models: [(policy: String, model: Transformer)] = []
        for name in spec.rerank.generators {
            if name == SFTStage.bestControl, let best = sft.best {
                models.append(
                    (
                        name,
                        try await context.log.model(
                            best.checkpoint, recordedAs: .checkpoint, what: "the best SFT checkpoint")
                    ))
            } else if let blob = weights[name] {
                models.append(
                    (name, try await context.log.model(blob, recordedAs: .weights, what: "the generator '\(name)'")))
            } else {
                // The parser admits only generators the run trains (`rerankableGenerators`).
                throw PipelineError(code: .invalidSpec, message: "the run trained no generator named '\(name)'")
            }
        }
        return models
    }
}
