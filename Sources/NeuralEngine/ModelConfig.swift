/// Which outputs a transformer has on top of its trunk.
public enum ModelHead: String, Codable, Sendable {
    /// Next-token logits (a policy).
    case languageModel
    /// One logit per token, read through a sigmoid (a reward model: PRM, ORM or OPRM).
    case scalar
    /// Both heads on one trunk.
    case both

    var hasLanguageModel: Bool { self != .scalar }
    var hasScalar: Bool { self != .languageModel }
}

/// The shape of a decoder-only, pre-LayerNorm transformer.
public struct ModelConfig: Codable, Sendable, Hashable {
    public var vocabularySize: Int
    public var contextLength: Int
    public var layers: Int
    public var width: Int
    public var heads: Int
    public var mlpMultiplier: Int
    public var head: ModelHead

    public init(
        vocabularySize: Int, contextLength: Int, layers: Int, width: Int, heads: Int, mlpMultiplier: Int = 4,
        head: ModelHead
    ) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.layers = layers
        self.width = width
        self.heads = heads
        self.mlpMultiplier = mlpMultiplier
        self.head = head
    }

    var headSize: Int { width / heads }
    var hiddenWidth: Int { width * mlpMultiplier }

    /// Throws when the shape cannot be built; `Transformer.init` traps on the same conditions.
    public func validate() throws {
        let problem: String? =
            if vocabularySize < 2 {
                "vocabularySize must be at least 2 (got \(vocabularySize))"
            } else if contextLength < 1 { "contextLength must be positive (got \(contextLength))" } else if layers < 1 {
                "layers must be positive (got \(layers))"
            } else if heads < 1 || width < 1 { "width and heads must be positive" } else if width % heads != 0 {
                "width \(width) must be divisible by heads \(heads)"
            } else if mlpMultiplier < 1 { "mlpMultiplier must be positive (got \(mlpMultiplier))" } else { nil }
        if let problem {
            throw EngineError(code: .invalidConfiguration, message: "invalid model configuration: \(problem)")
        }
    }
}
