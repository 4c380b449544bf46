import Foundation
import Randomness
import Testing

@testable import NeuralEngine

@Suite struct CheckpointTests {
    static let config = Fixtures.config(.both)

    @Test func weightsRoundTripThroughSafetensors() throws {
        let model = Transformer(config: Self.config, seed: 12)
        let bytes = model.weightsData()
        let loaded = try Transformer(weights: bytes)
        #expect(loaded.config == Self.config)
        #expect(loaded.weightsData() == bytes)
        #expect(Array(loaded.parameters.buffer).map(\.bitPattern) == Array(model.parameters.buffer).map(\.bitPattern))
        let file = try SafeTensors.decode(bytes)
        #expect(file.tensors["h.1.mlp.c_fc.weight"]?.shape == [64, 16])
        #expect(file.tensors.count == model.layout.tensors.count)
    }

    @Test func safetensorsHeaderIsWhatOtherToolsExpect() throws {
        let bytes = Transformer(config: Self.config, seed: 1).weightsData()
        let headerLength = Int(bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        #expect(headerLength % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any]
        let wte = header?["wte"] as? [String: Any]
        #expect(wte?["dtype"] as? String == "F32")
        #expect(wte?["shape"] as? [Int] == [11, 16])
        #expect(wte?["data_offsets"] as? [Int] == [0, 11 * 16 * 4])
    }

    static func checkpointBytes() -> Data {
        let trainer = Trainer(
            model: Transformer(config: Self.config, seed: 1), optimizer: AdamWConfig(),
            schedule: LearningRateSchedule(warmupSteps: 2, totalSteps: 10), gradientClip: 1,
            pool: ComputePool(threads: 1))
        _ = trainer.train(Fixtures.batch(config: Self.config, batchSize: 2, length: 6, seed: 1))
        return trainer.checkpoint(metadata: ["k": "v"]).encoded()
    }

    @Test func aCheckpointsWeightsLoadAsAModel() throws {
        let bytes = Self.checkpointBytes()
        let checkpoint = try TrainingCheckpoint(decoding: bytes)
        let model = try Transformer(weights: bytes)
        #expect(model.weightsData() == checkpoint.makeModel().weightsData())
        #expect(checkpoint.config == Self.config)
    }

    @Test(arguments: [0, 7, 8, 100, 1000])
    func truncatedCheckpointsAreRejected(keep: Int) {
        let bytes = Self.checkpointBytes()
        let cut = keep == 1000 ? bytes.count - 1 : keep
        #expect(throws: EngineError.self) { try TrainingCheckpoint(decoding: bytes.prefix(cut)) }
        #expect(throws: EngineError.self) { try Transformer(weights: bytes.prefix(cut)) }
    }

    @Test func corruptedCheckpointsAreRejected() throws {
        let bytes = Self.checkpointBytes()
        _ = try TrainingCheckpoint(decoding: bytes)
        var flipped = bytes
        flipped[flipped.count - 10] ^= 0x40
        do {
            _ = try TrainingCheckpoint(decoding: flipped)
            Issue.record("a flipped data byte was accepted")
        } catch let error as EngineError {
            #expect(error.code == .checksumMismatch)
            #expect(error.description.contains("corrupted"))
        }
        var badHeader = bytes
        badHeader[12] = UInt8(ascii: "#")
        #expect(throws: EngineError.self) { try TrainingCheckpoint(decoding: badHeader) }
        #expect(throws: EngineError.self) { try TrainingCheckpoint(decoding: Data(repeating: 0xFF, count: 64)) }
        // Weights alone are not a training checkpoint.
        let weights = Transformer(config: Self.config, seed: 1).weightsData()
        #expect(throws: EngineError.self) { try TrainingCheckpoint(decoding: weights) }
    }

    @Test func randomGeneratorStateResumesTheSequence() {
        var a = RandomGenerator(seed: 42, stream: 3)
        for _ in 0..<10 { _ = a.next() }
        var b = RandomGenerator(seed: 0)
        b.state = a.state
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = RandomGenerator(seed: 42, stream: 4)
        var d = RandomGenerator(seed: 42, stream: 3)
        #expect(c.next() != d.next())
        var e = RandomGenerator(seed: 1)
        let draws = (0..<10_000).map { _ in e.nextInt(below: 10) }
        #expect(Set(draws) == Set(0..<10))
        #expect((0..<10_000).allSatisfy { _ in (0..<1).contains(e.nextUniform()) })
    }
}
