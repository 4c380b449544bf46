import Analysis
import Foundation
import NeuralEngine
import WireTypes

/// Sampled solutions for consecutive problems of one split: `samplesPerProblem` rows per problem.
struct SampleSet: Sendable {
    var firstProblem: Int
    var samplesPerProblem: Int
    var sequences: [[Int32]]

    /// One byte per token: the vocabulary is small, and blobs stay small.
    func encoded() -> Data { Data(sequences.flatMap { $0.map { UInt8(truncatingIfNeeded: $0) } }) }

    init(firstProblem: Int, samplesPerProblem: Int, sequences: [[Int32]]) {
        self.firstProblem = firstProblem
        self.samplesPerProblem = samplesPerProblem
        self.sequences = sequences
    }

    init(decoding data: Data, firstProblem: Int, samplesPerProblem: Int, length: Int) throws {
        guard length > 0, data.count % length == 0 else {
            throw PipelineError(
                code: .corruptHistory, message: "a sample blob of \(data.count) bytes is not whole rows of \(length)")
        }
        let bytes = [UInt8](data)
        self.init(
            firstProblem: firstProblem, samplesPerProblem: samplesPerProblem,
            sequences: stride(from: 0, to: bytes.count, by: length).map { start in
                bytes[start..<(start + length)].map { Int32($0) }
            })
    }

    static func concatenate(_ parts: [SampleSet]) -> SampleSet {
        SampleSet(
            firstProblem: parts.first?.firstProblem ?? 0, samplesPerProblem: parts.first?.samplesPerProblem ?? 1,
            sequences: parts.flatMap(\.sequences))
    }
}

extension RunContext {
    /// Samples `samplesPerProblem` solutions for each problem. Row (problem p, sample j) draws from
    /// its own stream, `stream` at index p·k + j, so the tokens never depend on batching or threads.
    func sample(
        _ model: Transformer, problems: [Problem], firstIndex: Int = 0, samplesPerProblem: Int,
        stream: RandomStream, temperature: Double
    ) -> [[Int32]] {
        var templates: [[Int32]] = []
        var streams: [UInt64] = []
        templates.reserveCapacity(problems.count * samplesPerProblem)
        for (offset, problem) in problems.enumerated() {
            for sample in 0..<samplesPerProblem {
                templates.append(problem.template)
                streams.append(stream.at((firstIndex + offset) * samplesPerProblem + sample).number)
            }
        }
        let options = SamplingOptions(
            temperature: Float(temperature), topK: spec.sampling.topK > 0 ? spec.sampling.topK : nil)
        return model.sample(templates: templates, streams: streams, seed: spec.seed, options: options, pool: compute)
    }

    /// `sample` in slices of about `rowsPerSlice` rows, polling for a stop before each slice and reporting the
    /// problems done after it (`task.total` counts them; `doneBefore` were done by earlier calls). The tokens are
    /// those of one call: each row's stream depends only on its problem's index and its sample.
    func sample(
        _ model: Transformer, problems: [Problem], firstIndex: Int = 0, samplesPerProblem: Int,
        stream: RandomStream, temperature: Double, reporting task: ProgressTask, doneBefore: Int = 0
    ) async throws -> [[Int32]] {
        let perSlice = max(1, rowsPerSlice / max(1, samplesPerProblem))
        var sequences: [[Int32]] = []
        sequences.reserveCapacity(problems.count * samplesPerProblem)
        for first in stride(from: 0, to: problems.count, by: perSlice) {
            try await pollStop()
            let slice = Array(problems[first..<min(first + perSlice, problems.count)])
            sequences += sample(
                model, problems: slice, firstIndex: firstIndex + first, samplesPerProblem: samplesPerProblem,
                stream: stream, temperature: temperature)
            await report(task, done: doneBefore + first + slice.count)
        }
        return sequences
    }

    /// Greedy decoding accuracy per level, one draw per problem.
    func greedyScores(
        _ model: Transformer, policy: String, stage: StageName, problems: [Problem]
    ) async throws -> [ScoreMeasurement] {
        let sequences = try await sample(
            model, problems: problems, samplesPerProblem: 1, stream: RandomStream(.greedy), temperature: 0,
            reporting: ProgressTask(stage: stage, task: "\(policy) greedy", unit: "problems", total: problems.count))
        let correct = zip(problems, sequences).map { judge($1, against: $0).final }
        return spec.task.levels.map { level in
            var outcomes = ProblemOutcomes(draws: 1)
            for index in problems.indices where problems[index].level == level {
                outcomes.append(problem: index, outcomes: [correct[index]])
            }
            return ScoreMeasurement(
                stage: stage, policy: policy, method: "greedy", evaluator: "none", aggregation: "none", n: 1,
                level: level, outcomes: outcomes, resamples: 1)
        }
    }
}
