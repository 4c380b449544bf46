/// The one error type of the Analysis module.
///
/// A struct with an extensible code rather than a closed enum, so new codes never break callers.
public struct AnalysisError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// An estimator was given nothing to estimate from (no problems, no seeds).
        public static let emptyInput = Code("emptyInput")
        /// An interval across seeds was asked of fewer than 2 seeds.
        public static let tooFewSeeds = Code("tooFewSeeds")
        /// Two things that must be paired are not: different problems, different seeds, different lengths.
        public static let notPaired = Code("notPaired")
        /// A per-problem outcome blob does not decode.
        public static let malformedOutcomes = Code("malformedOutcomes")
        /// A row reference, a `--where` filter or an estimator setting is not valid; the message says where.
        public static let invalidArgument = Code("invalidArgument")
        /// A row the report names (or the baseline) is not among the runs' scores.
        public static let unknownRow = Code("unknownRow")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
