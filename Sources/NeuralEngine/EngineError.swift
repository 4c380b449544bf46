/// The one error type of NeuralEngine: what went wrong (`code`), what to do about it (`message`),
/// and the underlying error if there was one.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The bytes are not a safetensors file (bad header length, bad JSON, offsets out of range).
        public static let malformedFile = Code("malformedFile")
        /// The file ends before the data its header announces.
        public static let truncatedFile = Code("truncatedFile")
        /// The data does not match the checksum recorded when it was written.
        public static let checksumMismatch = Code("checksumMismatch")
        /// A tensor the model needs is missing, or has the wrong shape or type.
        public static let tensorMismatch = Code("tensorMismatch")
        /// A model configuration that cannot be built (e.g. width not divisible by heads).
        public static let invalidConfiguration = Code("invalidConfiguration")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(code: Code, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        var text = "NeuralEngine error (\(code)): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}
