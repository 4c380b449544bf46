import Foundation
import WireTypes

/// The stages of a run as its record shows them: when each started, when it completed (if it did), and how
/// long it took. Read from `StageStarted`/`StageCompleted` events; a stage restarted by a resumed attempt
/// keeps its first start, so its duration includes the interruption, as the user waited through it.
public struct StageTimeline: Sendable, Equatable {
    public struct Span: Sendable, Equatable {
        public var stage: String
        public var started: Date
        public var completed: Date?

        public func duration(now: Date) -> Double { (completed ?? now).timeIntervalSince(started) }
    }

    public var spans: [Span]

    /// Whether the timeline reads events of `type`: a caller may hand it only those.
    public static func reads(_ type: String) -> Bool { type == started || type == completed }
    private static let started = "StageStarted"
    private static let completed = "StageCompleted"

    public init(events: [WireEvent]) {
        var spans: [Span] = []
        for event in events {
            guard let stage = event.payload["stage"]?.stringValue else { continue }
            switch event.type {
            case Self.started where !spans.contains { $0.stage == stage }:
                spans.append(Span(stage: stage, started: event.recordedAt, completed: nil))
            case Self.completed:
                if let index = spans.firstIndex(where: { $0.stage == stage }) {
                    spans[index].completed = event.recordedAt
                }
            default:
                break
            }
        }
        self.spans = spans
    }
}
