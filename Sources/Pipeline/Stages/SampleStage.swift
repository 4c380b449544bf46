import Foundation
import NeuralEngine
import WireTypes

/// Stage 3: samples the selected policy — on easy training problems (the evaluators' data) and on
/// test problems (the reranking pools) — in chunks, each recorded as it completes.
enum SampleStage {
    struct ChunkReference: Codable, Sendable {
        var firstProblem: Int
        var problems: Int
        var blob: String
    }

    struct Output: Codable, Sendable {
        var evaluatorTraining: [ChunkReference]
        var test: [ChunkReference]
    }

    /// Rows sampled per recorded chunk: what a resumed run reuses (a stop inside a chunk waits only for the
    /// current slice of it, `RunContext.rowsPerSlice`).
    static let rowsPerChunk = 4096

    /// The problems the evaluators train on: easy training problems, or every training problem when
    /// an evaluator is a full-supervision ceiling.
    static func evaluatorTrainingProblems(_ context: RunContext, dataset: Dataset) -> [Problem] {
        let all = context.spec.evaluators.contains { $0.labels == .all }
        return dataset.train.filter { all || context.isEasy($0.level) }
    }

    static func run(_ context: RunContext, dataset: Dataset, policy: Transformer) async throws -> Output {
        let spec = context.spec
        let training = try await sampleSet(
            "evaluator_training", problems: evaluatorTrainingProblems(context, dataset: dataset),
            samplesPerProblem: spec.sampling.trainingSamplesPerProblem, stream: RandomStream(.evaluatorTrainingSamples),
            policy: policy, policyName: "sft", stage: .sample, context: context)
        let test = try await sampleSet(
            "test", problems: dataset.test, samplesPerProblem: spec.sampling.poolSize,
            stream: RandomStream(.testSamples), policy: policy, policyName: "sft", stage: .sample, context: context)
        return Output(evaluatorTraining: training, test: test)
    }

    /// Samples a set chunk by chunk; chunks the record already holds are read back instead.
    static func sampleSet(
        _ name: String, problems: [Problem], samplesPerProblem: Int, stream: RandomStream, policy: Transformer,
        policyName: String, stage: StageName, context: RunContext
    ) async throws -> [ChunkReference] {
        let perChunk = max(1, rowsPerChunk / samplesPerProblem)
        let task = ProgressTask(
            stage: stage, task: "\(policyName) \(name) samples", unit: "problems", total: problems.count)
        var chunks: [ChunkReference] = []
        for (chunk, first) in stride(from: 0, to: problems.count, by: perChunk).enumerated() {
            let slice = Array(problems[first..<min(first + perChunk, problems.count)])
            let recorded = try context.log.upcoming(SamplesGenerated.self) {
                $0.stage == stage && $0.set == name && $0.chunk == chunk
            }
            let blob: String
            if let recorded {
                blob = recorded.blob
            } else {
                // A stop inside the chunk drops it; a resumed run samples it again from its first problem.
                let sequences = try await context.sample(
                    policy, problems: slice, firstIndex: first, samplesPerProblem: samplesPerProblem, stream: stream,
                    temperature: context.spec.sampling.temperature, reporting: task, doneBefore: first)
                let set = SampleSet(firstProblem: first, samplesPerProblem: samplesPerProblem, sequences: sequences)
                blob = try await context.log.putBlob(set.encoded())
            }
            try await context.log.emit(
                SamplesGenerated(
                    stage: stage, set: name, policy: policyName, chunk: chunk, firstProblem: first,
                    problems: slice.count,
                    samplesPerProblem: samplesPerProblem, blob: blob))
            chunks.append(ChunkReference(firstProblem: first, problems: slice.count, blob: blob))
        }
        return chunks
    }

    /// Reads a sample set back from its chunks' blobs.
    static func load(_ chunks: [ChunkReference], samplesPerProblem: Int, context: RunContext) async throws -> SampleSet
    {
        var parts: [SampleSet] = []
        for chunk in chunks {
            parts.append(
                try SampleSet(
                    decoding: try await context.log.blob(chunk.blob), firstProblem: chunk.firstProblem,
                    samplesPerProblem: samplesPerProblem, length: context.family.sequenceLength))
        }
        return SampleSet.concatenate(parts)
    }
}
