import Foundation

/// What `GET /v1/runs/:id/stream` sends (`text/event-stream`): each committed event of the run with its full
/// payload, in version order, and the run's details (state, typed progress) whenever they change. The stream ends
/// once the run is final and everything was sent. `e2h follow` reads it; the run page's stream carries display
/// shapes of the same updates instead.
public enum RunStreamMessage: Sendable, Equatable {
    case event(WireEvent)
    case run(RunDetails)

    /// The `event:` names on the wire.
    public static let eventName = "run-event"
    public static let runName = "run"

    public var serverSentEvent: ServerSentEvent {
        get throws {
            switch self {
            case .event(let event):
                ServerSentEvent(event: Self.eventName, id: "\(event.version)", data: try Self.json(event))
            case .run(let run):
                ServerSentEvent(event: Self.runName, data: try Self.json(run))
            }
        }
    }

    /// The message a server-sent event carries; nil for a kind this version does not know (a newer daemon may
    /// send more kinds; an older reader skips them).
    public init?(_ message: ServerSentEvent) throws {
        let data = Data(message.data.utf8)
        switch message.event {
        case Self.eventName: self = .event(try StateDirectory.jsonDecoder.decode(WireEvent.self, from: data))
        case Self.runName: self = .run(try StateDirectory.jsonDecoder.decode(RunDetails.self, from: data))
        default: return nil
        }
    }

    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try StateDirectory.jsonEncoder.encode(value), as: UTF8.self)
    }
}
