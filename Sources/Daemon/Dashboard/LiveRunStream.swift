import Dashboard
import EventStore
import Foundation
import Hummingbird
import WireTypes

/// A run's new events and status as server-sent events: the one stream behind the run page's script
/// (`GET /runs/:id/live`, display shapes) and `e2h follow` (`GET /v1/runs/:id/stream`, wire shapes); only the
/// framing differs. Woken by NOTIFY on every commit to the event log and every stored progress report
/// (`appended`), with a re-read every few seconds as well, since a notification can be lost while the listening
/// session reconnects. Ends when the run is final and everything was sent, when the daemon begins to shut down,
/// or when the reader goes away.
struct LiveRunStream {
    /// The longest wait without a wake-up: also the keep-alive interval.
    static let idle = Duration.seconds(5)
    /// Events read (and sent) per pass; a reader far behind gets the rest at once, without waiting.
    static let batch = 1000

    /// How one audience sees the stream's updates.
    struct Framing: Sendable {
        /// The run page's (or the API's), for the daemon's counters.
        let forPage: Bool
        let event: @Sendable (WireEvent) throws -> String
        /// The run's status frame; sent whenever its bytes differ from the last one sent.
        let status: @Sendable (RunDetails) throws -> String

        /// The run page's: display shapes (`LiveUpdate`), what its script writes into the page.
        static let page = Framing(
            forPage: true,
            event: { try LiveUpdate.event(LiveUpdate.LiveEvent($0)).frame() },
            status: { try LiveUpdate.status(LiveUpdate.LiveStatus($0)).frame() })
        /// The API's: every event with its payload and the run's details with typed progress (`RunStreamMessage`).
        static let api = Framing(
            forPage: false,
            event: { try RunStreamMessage.event($0).serverSentEvent.frame },
            status: { try RunStreamMessage.run($0).serverSentEvent.frame })
    }

    let queue: Queue
    /// Woken on every commit to the event log and every stored progress report.
    let appended: WakeSignal

    /// Where a stream starts: after the query's `after`, or after the last event a reconnecting client saw, which
    /// `EventSource` sends back as `Last-Event-ID` (each event frame's id is its version) — so a page that lost its
    /// stream gets only what it missed, not every event again.
    static func start(_ request: Request) throws -> Int64 {
        start(after: try QueryParameters(request).versionAfter(), lastEventID: request.headers[.init("Last-Event-ID")!])
    }

    /// An id the stream did not send (not a version) is ignored, as `EventSource` would never send one back.
    static func start(after: Int64, lastEventID: String?) -> Int64 {
        guard let seen = lastEventID.flatMap({ Int64($0) }), (0..<Int64.max).contains(seen) else { return after }
        return max(after, seen)
    }

    func response(run id: String, after: Int64, framing: Framing) -> Response {
        let queue = self.queue
        let appended = self.appended
        queue.metrics.liveStreamOpened(forPage: framing.forPage)
        let body = ResponseBody { writer in
            var version = after
            var lastStatus: String?
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let seen = appended.generation
                let run = try await RunCatalog(queue: queue).details(id)
                let events = try await queue.store.read(
                    stream: DaemonEvent.stream(id), fromVersion: version + 1, limit: Self.batch)
                var frames = try events.map { try framing.event(WireEvent($0)) }
                version = events.last?.version ?? version
                let status = try framing.status(run)
                if status != lastStatus {
                    frames.append(status)
                    lastStatus = status
                }
                if frames.isEmpty { frames.append(ServerSentEvent.keepAliveFrame) }
                try await writer.write(ByteBuffer(string: frames.joined()))
                // A final run's last events were read after it became final: nothing more can come.
                if run.state.isFinal && events.isEmpty { break }
                if events.count < Self.batch { await appended.wait(after: seen, timeout: Self.idle) }
            }
            try await writer.finish(nil)
        }
        return .eventStream(body)
    }
}
