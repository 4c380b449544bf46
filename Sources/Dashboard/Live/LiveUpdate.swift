import Foundation
import WireTypes

/// What the dashboard's event streams (`text/event-stream`) send: to the run page, each newly committed event of the
/// run, and the run's state and progress whenever they change; to the runs page, its table whenever it changes.
/// Framed here, without I/O, so the framing is tested.
public enum LiveUpdate: Sendable, Equatable {
    case event(LiveEvent)
    case status(LiveStatus)
    /// The runs page's table (`RunsPage.table()`), rendered and escaped on the server like the page itself.
    case runsTable(HTML)

    public struct LiveEvent: Codable, Sendable, Equatable {
        public var version: Int64
        public var type: String
        public var stage: String?
        /// "2026-12-01 22:31:07 UTC", as the page prints times.
        public var recorded: String
        /// The commit time in milliseconds since 1970, for the page to tell how long an event took to arrive.
        public var recordedMilliseconds: Int64
        public var hash: String

        public init(_ event: WireEvent) {
            version = event.version
            type = event.type
            stage = event.payload["stage"]?.stringValue
            recorded = DisplayText.time(event.recordedAt)
            recordedMilliseconds = Int64((event.recordedAt.timeIntervalSince1970 * 1000).rounded(.down))
            hash = String(event.hash.prefix(12))
        }
    }

    public struct LiveStatus: Codable, Sendable, Equatable {
        public var state: String
        public var events: Int
        /// The progress line as the page prints it; empty when the run is not running.
        public var progress: String

        public init(_ run: RunDetails) {
            state = run.state.rawValue
            events = run.eventCount
            progress = run.progress.map(DisplayText.progress) ?? ""
        }
    }

    /// The bytes of one server-sent event (framed as the API's streams are: `ServerSentEvent`, their JSON the API's).
    public func frame() throws -> String {
        func json(_ value: some Encodable) throws -> String {
            String(decoding: try StateDirectory.jsonEncoder.encode(value), as: UTF8.self)
        }
        switch self {
        case .event(let event):
            return ServerSentEvent(event: "run-event", id: "\(event.version)", data: try json(event)).frame
        case .status(let status):
            return ServerSentEvent(event: "status", data: try json(status)).frame
        case .runsTable(let table):
            return ServerSentEvent(event: "runs", data: table.markup).frame
        }
    }
}
