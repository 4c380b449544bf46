import Foundation

/// A trainer's complete state: weights, AdamW moments, step, hyperparameters, and the caller's
/// metadata (RNG states, data cursor, encoded as strings). Its file form is safetensors: the weights
/// under their own names (loadable by other tools), the moments as `optimizer.m.*`/`optimizer.v.*`,
/// and the training state as JSON in the header's metadata.
public struct TrainingCheckpoint: Sendable {
    public var metadata: [String: String]
    public let config: ModelConfig
    public let step: Int
    public let optimizer: AdamWConfig
    public let schedule: LearningRateSchedule
    public let gradientClip: Float
    /// Arenas in the model's parameter layout.
    let weights: [Float]
    let firstMoment: [Float]
    let secondMoment: [Float]

    static let format = "e2h-training-checkpoint-1"

    init(
        config: ModelConfig, step: Int, optimizer: AdamWConfig, schedule: LearningRateSchedule, gradientClip: Float,
        weights: [Float], firstMoment: [Float], secondMoment: [Float], metadata: [String: String]
    ) {
        self.config = config
        self.step = step
        self.optimizer = optimizer
        self.schedule = schedule
        self.gradientClip = gradientClip
        self.weights = weights
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.metadata = metadata
    }

    /// The model as of this checkpoint.
    public func makeModel() -> Transformer {
        Transformer(config: config, parameters: FloatArena(copying: weights))
    }

    private struct State: Codable {
        var step: Int
        var optimizer: AdamWConfig
        var schedule: LearningRateSchedule
        /// Bit pattern, so the value survives JSON exactly.
        var gradientClipBits: UInt32
    }

    public func encoded() -> Data {
        let layout = ParameterLayout(config: config)
        let state = State(
            step: step, optimizer: optimizer, schedule: schedule, gradientClipBits: gradientClip.bitPattern)
        return weights.withUnsafeBufferPointer { w in
            firstMoment.withUnsafeBufferPointer { m in
                secondMoment.withUnsafeBufferPointer { v in
                    var entries: [SafeTensors.Entry] = []
                    for (prefix, arena) in [("", w), ("optimizer.m.", m), ("optimizer.v.", v)] {
                        for tensor in layout.tensors {
                            entries.append(
                                SafeTensors.Entry(
                                    name: prefix + tensor.name, shape: tensor.shape,
                                    values: UnsafeBufferPointer(
                                        rebasing: arena[tensor.offset..<(tensor.offset + tensor.count)])))
                        }
                    }
                    return SafeTensors.encode(
                        entries,
                        metadata: [
                            ("format", Self.format), ("e2h.config", fileMetadataJSON(config)),
                            ("e2h.state", fileMetadataJSON(state)),
                            ("e2h.metadata", fileMetadataJSON(metadata)),
                        ])
                }
            }
        }
    }

    public init(decoding data: Data) throws {
        let file = try SafeTensors.decode(data)
        guard file.metadata["format"] == Self.format else {
            throw EngineError(
                code: .malformedFile,
                message: "not an e2h training checkpoint (format '\(file.metadata["format"] ?? "none")')")
        }
        config = try decodeJSON(ModelConfig.self, file.metadata["e2h.config"], field: "e2h.config")
        do { try config.validate() } catch {
            throw EngineError(
                code: .malformedFile, message: "the checkpoint's model configuration is invalid", cause: error)
        }
        let state = try decodeJSON(State.self, file.metadata["e2h.state"], field: "e2h.state")
        metadata = try decodeJSON([String: String].self, file.metadata["e2h.metadata"], field: "e2h.metadata")
        step = state.step
        optimizer = state.optimizer
        schedule = state.schedule
        gradientClip = Float(bitPattern: state.gradientClipBits)
        let layout = ParameterLayout(config: config)
        weights = try arena(file, layout: layout, prefix: "")
        firstMoment = try arena(file, layout: layout, prefix: "optimizer.m.")
        secondMoment = try arena(file, layout: layout, prefix: "optimizer.v.")
    }
}

extension Transformer {
    static let weightsFormat = "e2h-weights-1"

    /// The weights as a safetensors file, with the configuration in its metadata; the same weights
    /// always give the same bytes.
    public func weightsData() -> Data {
        let entries = layout.tensors.map { tensor in
            SafeTensors.Entry(
                name: tensor.name, shape: tensor.shape,
                values: UnsafeBufferPointer(start: parameters.base + tensor.offset, count: tensor.count))
        }
        return SafeTensors.encode(
            entries, metadata: [("format", Self.weightsFormat), ("e2h.config", fileMetadataJSON(config))])
    }

    /// Loads `weightsData()` bytes (or a training checkpoint's weights). Truncated or corrupted
    /// bytes throw an `EngineError`.
    public convenience init(weights data: Data) throws {
        let file = try SafeTensors.decode(data)
        let config = try decodeJSON(ModelConfig.self, file.metadata["e2h.config"], field: "e2h.config")
        do { try config.validate() } catch {
            throw EngineError(code: .malformedFile, message: "the file's model configuration is invalid", cause: error)
        }
        let layout = ParameterLayout(config: config)
        self.init(config: config, parameters: FloatArena(copying: try arena(file, layout: layout, prefix: "")))
    }
}

private func arena(_ file: SafeTensors.File, layout: ParameterLayout, prefix: String) throws -> [Float] {
    var values = [Float](repeating: 0, count: layout.count)
    for tensor in layout.tensors {
        let tensorValues = try file.values(prefix + tensor.name, shape: tensor.shape)
        values.replaceSubrange(tensor.offset..<(tensor.offset + tensor.count), with: tensorValues)
    }
    return values
}

/// The JSON in a safetensors header's metadata, as formats `e2h-weights-1` and `e2h-training-checkpoint-1` define
/// it: sorted keys, the Swift names of the fields. It is part of those file formats, not a second `CanonicalJSON`:
/// recorded events name checkpoints by the SHA-256 of these bytes, so writing `CanonicalJSON`'s snake_case keys
/// instead would make every existing record's `replay --verify`, and the resume of a run interrupted before an
/// upgrade, diverge at its first checkpoint. Reading needs no such care: `JSONDecoder` takes these keys as written.
private func fileMetadataJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // The values are a model configuration, integers, bit patterns and strings: always encodable.
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

private func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?, field: String) throws -> T {
    guard let text else {
        throw EngineError(
            code: .malformedFile, message: "the file's metadata lacks '\(field)'; it was not written by e2h")
    }
    do {
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
        throw EngineError(code: .malformedFile, message: "the file's '\(field)' metadata is not valid", cause: error)
    }
}
