/// A YAML node with the position of its first character (1-based line and column).
struct YAMLNode: Sendable {
    indirect enum Value: Sendable {
        /// `plain` is false for quoted and block scalars, which are always strings.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    var value: Value
    var line: Int
    var column: Int
    /// Nodes in this subtree, counting every alias expansion; bounds the cost of aliases.
    var weight: Int

    var kindName: String {
        switch value {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

/// Limits that keep hostile input cheap: it is rejected before it can cost memory or time.
struct YAMLLimits: Sendable {
    var maximumBytes = 1 << 20
    var maximumDepth = 64
    /// Total nodes after alias expansion: a "billion laughs" document stops here.
    var maximumNodes = 100_000
}
