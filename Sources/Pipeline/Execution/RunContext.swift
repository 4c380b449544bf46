import Foundation
import Logging
import NeuralEngine
import Randomness
import WireTypes

/// Thrown inside a stage when the recorder asks the run to stop; `RunExecutor` turns it into
/// `.stopped`. It is an error only so that it unwinds every stage loop.
struct StopSignal: Error {
    var reason: StopReason
}

/// How finely the long loops poll for a stop and report progress. Results never depend on it: rows are
/// sampled and scored independently of the batch they are in.
struct Pacing: Sendable {
    /// Rows (samples or sequences) per engine call between two polls, per compute thread: about a quarter of a
    /// second of compute for the running-sum experiment on the reference machine, so that is how long a stop waits.
    var rowsPerThread = 256
    var reportInterval: Duration = .milliseconds(250)
}

/// What every stage of one execution shares.
final class RunContext {
    let spec: ExperimentSpec
    let log: RunLog
    /// The run's compute threads: every engine call of the run goes to this one pool.
    let compute: ComputePool
    let logger: Logger
    let family: any TaskFamily
    /// Test hook: labels altered on purpose, to show where they reach (`LeakageCheck`).
    let counterfactual: Counterfactual?
    /// Test hook: a leak the leakage check must catch.
    let leak: DeliberateLeak?
    let pacing: Pacing
    private var throttle: ReportThrottle

    init(
        spec: ExperimentSpec, log: RunLog, compute: ComputePool, logger: Logger, counterfactual: Counterfactual?,
        leak: DeliberateLeak?,
        pacing: Pacing
    ) {
        self.spec = spec
        self.log = log
        self.compute = compute
        self.logger = logger
        self.family = spec.task.family.family
        self.counterfactual = counterfactual
        self.leak = leak
        self.pacing = pacing
        throttle = ReportThrottle(interval: pacing.reportInterval)
    }

    /// Rows per engine call in the long loops, with a poll for a stop between two calls.
    var rowsPerSlice: Int { max(1, pacing.rowsPerThread * compute.threads) }

    /// `score` over a whole pool, in slices of `rowsPerSlice` sequences with a poll for a stop before each and a
    /// progress report after it. A sequence that repeats an earlier one is not scored again but takes its value: a
    /// policy's samples of one question often coincide (a confident policy writes the same answer again and again).
    /// `score` must treat rows independently, so that neither slicing nor leaving repeats out changes a value.
    func scoreInSlices<Value>(
        _ sequences: [[Int32]], reporting task: ProgressTask, _ score: ([[Int32]]) -> [Value]
    ) async throws -> [Value] {
        var values: [Value] = []
        values.reserveCapacity(sequences.count)
        var firstRow: [[Int32]: Int] = [:]  // a sequence → the first row that holds it
        for first in stride(from: 0, to: sequences.count, by: rowsPerSlice) {
            try await pollStop()
            let slice = first..<min(first + rowsPerSlice, sequences.count)
            var fresh: [Int] = []
            for row in slice where firstRow[sequences[row]] == nil {
                firstRow[sequences[row]] = row
                fresh.append(row)
            }
            var scored = (fresh.isEmpty ? [] : score(fresh.map { sequences[$0] })).makeIterator()
            for row in slice {
                let original = firstRow[sequences[row]]!
                values.append(original == row ? scored.next()! : values[original])
            }
            await report(task, done: values.count)
        }
        return values
    }

    func isEasy(_ level: Int) -> Bool { spec.task.easyLevels.contains(level) }

    /// The verdict on a written sequence: the one way a stage reads a label. Under the `hardVerdictsTrue`
    /// counterfactual every hard problem's verdict is all right, whatever was written.
    func judge(_ sequence: [Int32], against problem: Problem) -> Verdict {
        let verdict = family.verify(sequence, against: problem)
        guard counterfactual == .hardVerdictsTrue, spec.task.hardLevels.contains(problem.level) else { return verdict }
        return Verdict(steps: verdict.steps.map { _ in true }, final: true, answer: verdict.answer)
    }

    func modelConfig(head: ModelHead) -> ModelConfig {
        let model = spec.policy.model
        return ModelConfig(
            vocabularySize: Vocabulary.size, contextLength: family.sequenceLength, layers: model.layers,
            width: model.width, heads: model.heads, mlpMultiplier: model.mlpMultiplier, head: head)
    }

    /// The run's generator for one purpose (and one item and index of it), independent of all others.
    func random(_ purpose: RandomStream.Purpose, item: Int = 0, index: Int = 0) -> RandomGenerator {
        RandomStream(purpose, item: item, index: index).generator(seed: spec.seed)
    }

    /// Tells the recorder where the run is, unless a report of the same task went out moments ago.
    func report(_ task: ProgressTask, done: Int, loss: Double? = nil) async {
        let now = ContinuousClock.now
        let progress = task.progress(done: done, loss: loss, at: now)
        guard throttle.admits(progress, at: now) else { return }
        await log.recorder.report(progress)
    }

    /// Stops at a step or batch boundary when asked; `saveState` records a checkpoint first when there is
    /// unsaved progress. Work after the last recorded event is dropped and, on resume, redone the same way.
    func pollStop(saveState: (() async throws -> Void)? = nil) async throws {
        try compute.checkCancellation()
        guard let reason = await log.stopRequested() else { return }
        logger.info("stop requested (\(reason.rawValue)); stopping at a step boundary")
        try await saveState?()
        throw StopSignal(reason: reason)
    }
}

extension RandomGenerator: RandomNumberGenerator {}
