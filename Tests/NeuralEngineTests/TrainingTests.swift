import Randomness
import Testing

@testable import NeuralEngine

@Suite struct TrainingTests {
    static func trainer(
        _ config: ModelConfig, seed: UInt64 = 1, threads: Int, share: CoreShare? = nil, learningRate: Float = 3e-3
    ) -> Trainer {
        Trainer(
            model: Transformer(config: config, seed: seed),
            optimizer: AdamWConfig(learningRate: learningRate, weightDecay: 0.01),
            schedule: LearningRateSchedule(warmupSteps: 5, totalSteps: 200, minimumRatio: 0.1), gradientClip: 1,
            pool: ComputePool(threads: threads, share: share))
    }

    @Test func tinyPolicyOverfitsAFixedSet() {
        let config = Fixtures.config(.languageModel, vocabulary: 11, context: 12, layers: 2, width: 32, heads: 4)
        var batch = Fixtures.batch(config: config, batchSize: 4, length: 12, seed: 21)
        batch.lossMask = batch.lossMask.map { _ in 1 }
        let trainer = Self.trainer(config, threads: 2, learningRate: 1e-2)
        var last = StepReport(
            step: 0, loss: .infinity, languageModelLoss: 0, scalarLoss: 0, gradientNorm: 0, learningRate: 0)
        for _ in 0..<200 { last = trainer.train(batch) }
        #expect(last.loss < 0.05, "final loss \(last.loss)")
        // The trained model reproduces the set: every next token is its most likely one.
        let scored = trainer.model.score(tokens: batch.tokens, batchSize: 4, length: 12, pool: ComputePool(threads: 1))
        for i in 0..<batch.tokens.count where i % 12 != 11 {
            #expect(scored.nextTokenLogProb[i] > -0.2, "position \(i)")
        }
    }

    @Test func tinyRewardModelLearnsASeparableLabel() {
        let config = Fixtures.config(.scalar, vocabulary: 11, context: 8, layers: 2, width: 32, heads: 4)
        let trainer = Self.trainer(config, threads: 2, learningRate: 3e-3)
        var last: Float = .infinity
        for step in 0..<150 {
            // Label: does the row contain token 3? Checked at the last position.
            let batch = Self.containsThree(batchSize: 16, length: 8, seed: UInt64(step))
            last = trainer.train(batch).scalarLoss
        }
        #expect(last < 0.15, "final scalar loss \(last)")
        let test = Self.containsThree(batchSize: 64, length: 8, seed: 10_000)
        let scored = trainer.model.score(tokens: test.tokens, batchSize: 64, length: 8, pool: ComputePool(threads: 2))
        #expect(scored.nextTokenLogProb.isEmpty)
        var correct = 0
        for row in 0..<64 {
            let predicted: Float = scored.scalar[row * 8 + 7] > 0.5 ? 1 : 0
            if predicted == test.scalarTargets[row * 8 + 7] { correct += 1 }
        }
        #expect(correct >= 60, "\(correct)/64 correct")
    }

    static func containsThree(batchSize: Int, length: Int, seed: UInt64) -> TrainingBatch {
        var random = RandomGenerator(seed: seed, stream: 5)
        var tokens: [Int32] = []
        var labels: [Float] = []
        var mask: [Float] = []
        for row in 0..<batchSize {
            var sequence = (0..<length).map { _ in Int32(random.nextInt(below: 10)) }
            sequence = sequence.map { $0 == 3 ? 4 : $0 }
            if row % 2 == 0 { sequence[random.nextInt(below: length)] = 3 }
            tokens += sequence
            labels += [Float](repeating: row % 2 == 0 ? 1 : 0, count: length)
            mask += (0..<length).map { $0 == length - 1 ? 1 : 0 }
        }
        return TrainingBatch(
            batchSize: batchSize, length: length, tokens: tokens, targets: [], lossMask: [], scalarTargets: labels,
            scalarMask: mask)
    }

    /// Losses of `steps` steps and the final weights' hash.
    static func run(
        _ config: ModelConfig, threads: Int, share: CoreShare? = nil, steps: Int
    ) -> ([UInt32], String) {
        let trainer = Self.trainer(config, seed: 4, threads: threads, share: share)
        var losses: [UInt32] = []
        for step in 0..<steps {
            let batch = Fixtures.batch(config: config, batchSize: 5, length: 10, seed: UInt64(step))
            let report = trainer.train(batch)
            losses += [report.loss.bitPattern, report.gradientNorm.bitPattern]
        }
        return (losses, Fixtures.weightsHash(trainer.model))
    }

    @Test func sameSeedGivesIdenticalBits() {
        let config = Fixtures.config(.both)
        let first = Self.run(config, threads: 2, steps: 6)
        let second = Self.run(config, threads: 2, steps: 6)
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
    }

    @Test(arguments: [ModelHead.languageModel, .both])
    func threadCountNeverChangesABit(head: ModelHead) {
        // Odd sizes so that partial tiles and uneven thread splits are exercised.
        let config = Fixtures.config(head, vocabulary: 13, context: 10, layers: 2, width: 48, heads: 3)
        let one = Self.run(config, threads: 1, steps: 5)
        let two = Self.run(config, threads: 2, steps: 5)
        let three = Self.run(config, threads: 3, steps: 5)
        // Two threads on a share of one core: every loop runs on the calling thread alone, in pieces cut for two.
        let shared = Self.run(config, threads: 2, share: CoreShare(cores: 1), steps: 5)
        #expect(one.0 == two.0 && one.1 == two.1)
        #expect(one.0 == three.0 && one.1 == three.1)
        #expect(one.0 == shared.0 && one.1 == shared.1)
    }

    @Test func checkpointAndResumeMatchesAnUninterruptedRun() throws {
        let config = Fixtures.config(.both)
        let batches = (0..<7).map { Fixtures.batch(config: config, batchSize: 4, length: 9, seed: UInt64(100 + $0)) }
        let uninterrupted = Self.trainer(config, threads: 2)
        let expectedReports = batches.map { uninterrupted.train($0) }

        let first = Self.trainer(config, threads: 2)
        var reports = batches[0..<3].map { first.train($0) }
        let bytes = first.checkpoint(metadata: ["cursor": "3", "rng": "1,2,3,4"]).encoded()
        let restoredCheckpoint = try TrainingCheckpoint(decoding: bytes)
        #expect(restoredCheckpoint.metadata == ["cursor": "3", "rng": "1,2,3,4"])
        #expect(restoredCheckpoint.step == 3)
        let resumed = try Trainer(restoring: restoredCheckpoint, pool: ComputePool(threads: 1))
        reports += batches[3...].map { resumed.train($0) }

        #expect(reports == expectedReports)
        let a = uninterrupted.checkpoint(metadata: [:])
        let b = resumed.checkpoint(metadata: [:])
        #expect(a.weights.map(\.bitPattern) == b.weights.map(\.bitPattern))
        #expect(a.firstMoment.map(\.bitPattern) == b.firstMoment.map(\.bitPattern))
        #expect(a.secondMoment.map(\.bitPattern) == b.secondMoment.map(\.bitPattern))
        #expect(a.encoded() == b.encoded())
    }

    @Test func learningRateScheduleWarmsUpThenDecays() {
        let schedule = LearningRateSchedule(warmupSteps: 10, totalSteps: 110, minimumRatio: 0.1)
        #expect(schedule.rate(at: 0, peak: 1) == 0.1)
        #expect(schedule.rate(at: 9, peak: 1) == 1)
        #expect(abs(schedule.rate(at: 60, peak: 1) - 0.55) < 1e-6)
        #expect(abs(schedule.rate(at: 110, peak: 1) - 0.1) < 1e-6)
        #expect(abs(schedule.rate(at: 500, peak: 1) - 0.1) < 1e-6)
    }

    @Test func clippingBoundsTheUpdate() {
        let config = Fixtures.config(.languageModel)
        let model = Transformer(config: config, seed: 2)
        let before = Array(model.parameters.buffer)
        let trainer = Trainer(
            model: model, optimizer: AdamWConfig(learningRate: 1, weightDecay: 0),
            schedule: LearningRateSchedule(warmupSteps: 0, totalSteps: 1), gradientClip: 1e-6,
            pool: ComputePool(threads: 1))
        let report = trainer.train(Fixtures.batch(config: config, batchSize: 2, length: 8, seed: 1))
        #expect(report.gradientNorm > 1e-6)
        // Adam normalizes the step to ~lr per element whatever the scale, so clipping shows in the moments.
        let m = trainer.firstMoment.buffer
        let bound = Float(0.1 * 1e-6 * 1.0001)
        #expect(m.allSatisfy { abs($0) <= bound })
        #expect(Array(model.parameters.buffer) != before)
    }
}

@Suite struct ModelTests {
    @Test func withHeadKeepsTheTrunkAndInitializesTheNewHead() {
        let policy = Transformer(config: Fixtures.config(.languageModel), seed: 1)
        let reward = policy.withHead(.scalar, seed: 2)
        #expect(reward.config.head == .scalar)
        #expect(reward.layout.languageModelHead == nil)
        for tensor in reward.layout.tensors where !tensor.name.hasPrefix("scalar_head") {
            let source = policy.layout.tensor(named: tensor.name)!
            let a = UnsafeBufferPointer(start: reward.parameters.base + tensor.offset, count: tensor.count)
            let b = UnsafeBufferPointer(start: policy.parameters.base + source.offset, count: tensor.count)
            #expect(Array(a) == Array(b), "\(tensor.name)")
        }
        let both = reward.withHead(.both, seed: 3)
        let scalarWeight = both.layout.tensor(named: "scalar_head.weight")!
        let original = reward.layout.tensor(named: "scalar_head.weight")!
        #expect(
            Array(UnsafeBufferPointer(start: both.parameters.base + scalarWeight.offset, count: scalarWeight.count))
                == Array(UnsafeBufferPointer(start: reward.parameters.base + original.offset, count: original.count)))
        #expect(policy.parameterCount == 2 * (11 * 16) + 12 * 16 + 2 * (12 * 16 * 16 + 13 * 16) + 2 * 16 + 0)
    }

    /// 37 rows (two chunks, each spread over the threads) and 203 rows (whole chunks per thread).
    @Test(arguments: [37, 203])
    func scoringDependsOnNeitherThreadsNorBatching(rows: Int) {
        let config = Fixtures.config(.both, vocabulary: 11, context: 12, layers: 2, width: 32, heads: 2)
        let model = Transformer(config: config, seed: 5)
        let batch = Fixtures.batch(config: config, batchSize: rows, length: 12, seed: 3)
        let one = model.score(tokens: batch.tokens, batchSize: rows, length: 12, pool: ComputePool(threads: 1))
        for threads in [2, 3] {
            let many = model.score(
                tokens: batch.tokens, batchSize: rows, length: 12, pool: ComputePool(threads: threads))
            #expect(one.nextTokenLogProb.map(\.bitPattern) == many.nextTokenLogProb.map(\.bitPattern))
            #expect(one.scalar.map(\.bitPattern) == many.scalar.map(\.bitPattern))
        }
        let row = 33
        let alone = model.score(
            tokens: Array(batch.tokens[(row * 12)..<((row + 1) * 12)]), batchSize: 1, length: 12,
            pool: ComputePool(threads: 2))
        #expect(alone.nextTokenLogProb == Array(one.nextTokenLogProb[(row * 12)..<((row + 1) * 12)]))
        #expect(alone.scalar == Array(one.scalar[(row * 12)..<((row + 1) * 12)]))
        #expect(one.nextTokenLogProb[11] == 0)
        #expect(one.scalar.allSatisfy { $0 > 0 && $0 < 1 })
    }
}
