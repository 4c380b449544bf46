import Dashboard
import EventStore
import Foundation
import Hummingbird
import WireTypes

/// `GET /runs/:id/live?after=V`: a run's new events and status as server-sent events, for the run page's script.
/// Woken by the store's NOTIFY on every commit (`appended`), with a re-read every few seconds as well, since a
/// notification can be lost while the listening session reconnects. Ends when the run is final and everything
/// was sent, when the daemon begins to shut down, or when the browser goes away.
struct LiveRunStream {
    /// The longest wait without a wake-up: also the keep-alive interval.
    static let idle = Duration.seconds(5)

    let queue: Queue
    /// Woken on every commit to the event log.
    let appended: WakeSignal

    func response(run id: String, after: Int64) -> Response {
        let queue = self.queue
        let appended = self.appended
        let body = ResponseBody { writer in
            var version = after
            var lastStatus: LiveUpdate.LiveStatus?
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let seen = appended.generation
                let run = try await RunCatalog(queue: queue).details(id)
                let events = try await queue.store.read(stream: DaemonEvent.stream(id), fromVersion: version + 1)
                var frames = events.map { LiveUpdate.event(LiveUpdate.LiveEvent(WireEvent($0))).frame }
                version = events.last?.version ?? version
                let status = LiveUpdate.LiveStatus(run)
                if status != lastStatus {
                    frames.append(LiveUpdate.status(status).frame)
                    lastStatus = status
                }
                if frames.isEmpty { frames.append(LiveUpdate.keepAlive.frame) }
                try await writer.write(ByteBuffer(string: frames.joined()))
                // A final run's last events were read after it became final: nothing more can come.
                if run.state.isFinal && events.isEmpty { break }
                if events.count < 1000 { await appended.wait(after: seen, timeout: Self.idle) }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                .init("X-Content-Type-Options")!: "nosniff",
            ], body: body)
    }
}
