import Dashboard
import EventStore
import Foundation
import Hummingbird
import WireTypes

/// The runs page's table as server-sent events (`GET /live`, with the page's filter): re-rendered whenever the runs
/// may have changed and sent when its bytes differ from the last sent. Every change of a run's row appends an event
/// to its stream and every progress report notifies, so it wakes on the same NOTIFY as the run page
/// (`appended`), and re-reads every few seconds as well (a notification can be lost while the listening session
/// reconnects; a running run's duration moves on). Ends when the daemon begins to shut down or the reader goes away.
struct LiveRunsStream {
    /// The longest wait without a wake-up: also how often a running run's duration moves on.
    static let idle = Duration.seconds(5)
    /// The shortest time between two re-reads: a training run commits many events a second, and a list read
    /// once a second per open page keeps up with any of them.
    static let spacing = Duration.seconds(1)

    let queue: Queue
    /// Woken on every commit to the event log and every stored progress report.
    let appended: WakeSignal

    func response(filter: RunsPage.Filter) -> Response {
        let queue = self.queue
        let appended = self.appended
        queue.metrics.liveStreamOpened(forPage: true)
        let body = ResponseBody { writer in
            var lastTable: HTML?
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let seen = appended.generation
                let runs = try await RunCatalog(queue: queue).list(filter)
                let table = RunsPage(runs: runs, filter: filter, now: Date()).table()
                if table != lastTable {
                    try await writer.write(ByteBuffer(string: try LiveUpdate.runsTable(table).frame()))
                    lastTable = table
                } else {
                    try await writer.write(ByteBuffer(string: ServerSentEvent.keepAliveFrame))
                }
                await appended.wait(after: seen, timeout: Self.idle)
                // A reader gone away cancels the sleep; the loop's check then ends the stream quietly.
                try? await Task.sleep(for: Self.spacing)
            }
            try await writer.finish(nil)
        }
        return .eventStream(body)
    }
}
