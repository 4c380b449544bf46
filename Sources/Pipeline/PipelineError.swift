/// The one error type of the Pipeline module.
///
/// A struct with an extensible code rather than a closed enum, so new codes never break callers.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The experiment spec is not valid; `diagnostics` says where and why.
        public static let invalidSpec = Code("invalidSpec")
        /// A resumed run regenerated an event that differs from the one its history holds.
        public static let divergence = Code("divergence")
        /// The run's history is not one this executor can resume (missing blob, unreadable payload).
        public static let corruptHistory = Code("corruptHistory")
        /// The recorder (event store) failed, e.g. the lease was lost.
        public static let recording = Code("recording")
        /// A figure was asked for that may not be used as asked: a test-split row to choose a run by.
        public static let invalidArgument = Code("invalidArgument")
    }

    public var code: Code
    public var message: String
    public var diagnostics: [SpecDiagnostic]
    public var cause: (any Error)?

    public init(code: Code, message: String, diagnostics: [SpecDiagnostic] = [], cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
        self.cause = cause
    }

    public var description: String {
        var text = "\(code): \(message)"
        for diagnostic in diagnostics { text += "\n  \(diagnostic)" }
        if let cause { text += "\n  caused by: \(cause)" }
        return text
    }
}

/// One problem found in an experiment spec, located in its source text.
public struct SpecDiagnostic: Sendable, Codable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// Dotted path of the offending key, e.g. `policy.sft.learning_rate` or `evaluators[2].kind`.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        "\(file):\(line):\(column): \(keyPath.isEmpty ? "(document)" : keyPath): \(message)"
    }
}
