import Foundation
import Logging
import NeuralEngine

/// Thrown inside a stage when the recorder asks the run to stop; `RunExecutor` turns it into
/// `.stopped`. It is an error only so that it unwinds every stage loop.
struct StopSignal: Error {
    var reason: StopReason
}

/// What every stage of one execution shares.
final class RunContext {
    let spec: ExperimentSpec
    let log: RunLog
    let threads: Int
    let logger: Logger
    let family: any TaskFamily
    /// Test hook: replace every hard-level label with a wrong one, to prove they are used for scoring only.
    let corruptsHardLabels: Bool

    init(spec: ExperimentSpec, log: RunLog, threads: Int, logger: Logger, corruptsHardLabels: Bool) {
        self.spec = spec
        self.log = log
        self.threads = threads
        self.logger = logger
        self.family = spec.task.family.family
        self.corruptsHardLabels = corruptsHardLabels
    }

    func isEasy(_ level: Int) -> Bool { spec.task.easyLevels.contains(level) }

    func modelConfig(head: ModelHead) -> ModelConfig {
        let model = spec.policy.model
        return ModelConfig(
            vocabularySize: Vocabulary.size, contextLength: family.sequenceLength, layers: model.layers,
            width: model.width, heads: model.heads, mlpMultiplier: model.mlpMultiplier, head: head)
    }

    /// A random generator for one purpose (and one step or item of it), independent of all others.
    func random(_ purpose: UInt64, _ index: Int = 0) -> RandomGenerator {
        RandomGenerator(seed: spec.seed, stream: purpose << 40 | UInt64(index))
    }

    /// Stops at a step boundary when asked; `saveState` records a checkpoint first when there is
    /// unsaved progress.
    func pollStop(saveState: (() async throws -> Void)? = nil) async throws {
        guard let reason = await log.stopRequested() else { return }
        logger.info("stop requested (\(reason.rawValue)); stopping at a step boundary")
        try await saveState?()
        throw StopSignal(reason: reason)
    }
}

extension RandomGenerator: RandomNumberGenerator {}
