import Canonical
import Foundation
import WireTypes

/// A typed event payload; its canonical JSON is a `PipelineEvent`'s payload.
protocol EventPayload: Codable, Sendable, Equatable {
    static var eventType: String { get }
}

/// A fact about one execution, kept in an event's metadata outside what determinism compares: a duration, or the
/// blob of work this execution stored that a resume may reuse instead of redoing it.
public enum VolatileFact: Codable, Sendable, Equatable {
    case number(Double)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        }
    }
}

extension EventPayload {
    func event(volatile: [String: VolatileFact] = [:]) -> PipelineEvent {
        PipelineEvent(
            // Every payload is plain data; failure would be a programming error.
            type: Self.eventType, payload: try! CanonicalJSON.encode(self),
            volatile: try! CanonicalJSON.encode(volatile))
    }

    init(decoding event: PipelineEvent) throws {
        do {
            self = try CanonicalJSON.decode(Self.self, from: event.payload)
        } catch {
            throw PipelineError(
                code: .corruptHistory, message: "a recorded \(event.type) event does not decode", cause: error)
        }
    }
}

public struct StageStarted: EventPayload {
    public static let eventType = "StageStarted"
    public var stage: StageName
}

public struct StageCompleted: EventPayload {
    public static let eventType = "StageCompleted"
    public var stage: StageName
    /// SHA-256 of the blob holding the stage's outputs (JSON); a resumed run reads them back.
    public var outputs: String
}

public struct LevelCount: Codable, Sendable, Equatable {
    public var level: Int
    public var count: Int
}

public struct DatasetSplitCreated: EventPayload {
    public static let eventType = "DatasetSplitCreated"
    public var split: String
    public var counts: [LevelCount]
    /// SHA-256 of the split's questions (templates and levels): the blob's bytes.
    public var sha256: String
    /// SHA-256 of the split's labels (reference solutions), kept apart from the questions so
    /// that what the pipeline trains on and what it only scores with are recorded separately.
    public var labelsSha256: String
}

public struct CheckpointSaved: EventPayload {
    public static let eventType = "CheckpointSaved"
    public enum Reason: String, Codable, Sendable {
        /// Every `checkpoint_interval` steps and at the end: part of every execution's record.
        case interval
        /// Taken because a stop was requested; only interrupted executions have it.
        case interrupt
    }
    public var stage: StageName
    /// Which model of the stage: "policy", an evaluator's name, "ppo", "rest_em"...
    public var model: String
    public var step: Int
    public var blob: String
    public var reason: Reason
    /// For policy checkpoints: pass@1 on easy validation problems, the only figure checkpoint
    /// selection may use.
    public var easyValidationAccuracy: Double?
    /// For the checkpoints of an evaluator chosen on validation (`checkpoint: best_validation`): the ROC-AUC of its
    /// outcome scores on samples of easy validation problems, the figure it is chosen by.
    public var easyValidationAuc: Double?
    /// The checkpoint of a model trained in the same rounds (PPO's value model), restored with this one; absent
    /// (and not in the payload) for a model trained alone.
    public var companion: String? = nil
}

extension CheckpointSaved {
    /// Whether an event is a checkpoint taken only because a stop was requested. When a stop comes depends on the
    /// clock, not on the spec, so such checkpoints are no part of a run's deterministic record: a resume steps over
    /// them, a replay does not compare them.
    public static func isInterrupt(type: String, payload: Data) -> Bool {
        type == eventType && (try? CanonicalJSON.decode(Self.self, from: payload))?.reason == .interrupt
    }
}

public struct SamplesGenerated: EventPayload {
    public static let eventType = "SamplesGenerated"
    public var stage: StageName
    /// Which sample set: "evaluator_training", "test", ...
    public var set: String
    public var policy: String
    /// Chunks hold consecutive problems of the set; a resumed run reuses recorded chunks.
    public var chunk: Int
    public var firstProblem: Int
    public var problems: Int
    public var samplesPerProblem: Int
    /// The sampled sequences, one byte per token (no labels: sampling never reads them).
    public var blob: String
}

public struct AreaUnderCurve: Codable, Sendable, Equatable {
    /// ROC-AUC of step scores against step labels; nil where one class is absent.
    public var stepEasy: Double?
    public var stepHard: Double?
    /// ROC-AUC of solution scores (product of step scores) against final-answer labels.
    public var outcomeEasy: Double?
    public var outcomeHard: Double?
}

public struct EvaluatorTrained: EventPayload {
    public static let eventType = "EvaluatorTrained"
    public var name: String
    public var kind: EvaluatorKind
    public var labels: LabelScope
    public var trainingExamples: Int
    public var steps: Int
    public var rocAuc: AreaUnderCurve
    public var weights: String
    /// The training step of the checkpoint that scores, when it was chosen on validation rather than the last.
    public var chosenStep: Int?

    /// The volatile fact naming the blob of the evaluator's test scores (not in the payload: records made before
    /// it was noted keep their bytes).
    static let testScoresFact = "testScores"
}

/// One accuracy figure: a reranking method, or a policy's greedy or majority accuracy, on one level.
public struct ScoreRecorded: EventPayload, Hashable {
    public static let eventType = "ScoreRecorded"
    public var stage: StageName
    /// The policy whose samples are scored: "sft", "verifier", "ppo", "rest_em".
    public var policy: String
    /// "majority", "likelihood", "weighted", "best_of_n", "greedy", "pass".
    public var method: String
    /// The evaluator that weights or picks, or "none".
    public var evaluator: String
    /// Step-score aggregation, or "none".
    public var aggregation: String
    public var n: Int
    public var level: Int
    public var accuracy: Double
    /// The level's problems: the denominator. A problem judged on several resampled subsets counts once.
    public var problems: Int
    /// Problems solved, each problem's resampled subsets averaged (accuracy × problems).
    public var correct: Double
    /// SHA-256 of the `ProblemOutcomes` blob (module Analysis): the outcome of every resampled pick of every
    /// problem, so intervals and paired differences can be computed from the record alone.
    public var outcomes: String

    /// Public for writers of records outside the pipeline (the compare benchmark's store).
    public init(
        stage: StageName, policy: String, method: String, evaluator: String, aggregation: String, n: Int, level: Int,
        accuracy: Double, problems: Int, correct: Double, outcomes: String
    ) {
        self.stage = stage
        self.policy = policy
        self.method = method
        self.evaluator = evaluator
        self.aggregation = aggregation
        self.n = n
        self.level = level
        self.accuracy = accuracy
        self.problems = problems
        self.correct = correct
        self.outcomes = outcomes
    }
}
