import EventStore
import Foundation

/// The events the daemon itself appends to a run's stream: the queue's audit trail. The executor ignores them.
enum DaemonEvents {
    static let submitted = "RunSubmitted"
    static let claimed = "RunClaimed"
    static let interrupted = "RunInterrupted"
    static let resumed = "RunResumed"
    static let cancelled = "RunCancelled"
    static let failed = "RunFailed"
    static let completed = "RunCompleted"

    static let all: Set<String> = [submitted, claimed, interrupted, resumed, cancelled, failed, completed]

    /// A daemon event with a flat JSON object payload (sorted keys) and who wrote it in the metadata.
    static func make(
        _ type: String, _ fields: [String: any Sendable], worker: String? = nil, attempt: Int? = nil
    )
        -> NewEvent
    {
        var metadata: [String: any Sendable] = [:]
        if let worker { metadata["worker"] = worker }
        if let attempt { metadata["attempt"] = attempt }
        return NewEvent(type: type, payload: json(fields), metadata: json(metadata))
    }

    static func json(_ fields: [String: any Sendable]) -> Data {
        (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
    }

    static func stream(_ run: String) -> String { "run-\(run)" }
}
