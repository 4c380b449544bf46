import EventStore
import Foundation
import Synchronization

/// Counters this process keeps for `/metrics`; queue figures are read from the database at scrape time.
public final class DaemonMetrics: Sendable {
    private struct Counters {
        var trainingSteps = 0
        var runsClaimed = 0
        var runsReaped = 0
        var fencedWrites = 0
        /// Live streams opened, by reader: the run page's and `e2h follow`'s.
        var liveStreams = (page: 0, api: 0)
        /// (time, steps) of recent metric points, for steps/s over the last minute.
        var stepTimes: [(Date, Int)] = []
    }

    private let counters = Mutex(Counters())

    public init() {}

    func runClaimed() { counters.withLock { $0.runsClaimed += 1 } }
    func runsReaped(_ count: Int) { counters.withLock { $0.runsReaped += count } }
    func writeFenced() { counters.withLock { $0.fencedWrites += 1 } }
    func liveStreamOpened(forPage: Bool) {
        counters.withLock { forPage ? ($0.liveStreams.page += 1) : ($0.liveStreams.api += 1) }
    }

    func trainingSteps(_ count: Int, at time: Date = Date()) {
        counters.withLock {
            $0.trainingSteps += count
            $0.stepTimes.append((time, count))
            $0.stepTimes.removeAll { time.timeIntervalSince($0.0) > 60 }
        }
    }

    /// Prometheus text exposition of the counters, plus the figures given: the queue's, the storage's, and the events
    /// this daemon's store appended (`EventStore.eventsAppended`, counted at commit for every writer).
    func exposition(
        runsByState: [(String, Int)], queueDepth: Int, storage: StorageFigures, eventsAppended: Int,
        now: Date = Date()
    ) -> String {
        let snapshot = counters.withLock { $0 }
        let recent = snapshot.stepTimes.filter { now.timeIntervalSince($0.0) <= 60 }
        let stepsPerSecond = Double(recent.reduce(0) { $0 + $1.1 }) / 60
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in samples { lines.append("\(name)\(labels) \(value)") }
        }
        metric("e2h_queue_depth", "gauge", "Runs queued and ready or waiting for backoff.", [("", "\(queueDepth)")])
        metric(
            "e2h_runs", "gauge", "Runs by state (all daemons).",
            runsByState.map { ("{state=\"\($0.0)\"}", "\($0.1)") })
        metric(
            "e2h_events_appended_total", "counter", "Events appended by this daemon.",
            [("", "\(eventsAppended)")])
        metric(
            "e2h_training_steps_total", "counter", "Training steps recorded by this daemon.",
            [("", "\(snapshot.trainingSteps)")])
        metric(
            "e2h_training_steps_per_second", "gauge", "Training steps per second over the last minute.",
            [("", String(format: "%.3f", stepsPerSecond))])
        metric("e2h_runs_claimed_total", "counter", "Runs claimed by this daemon.", [("", "\(snapshot.runsClaimed)")])
        metric(
            "e2h_runs_reaped_total", "counter", "Runs whose lease expired, requeued by this daemon's reaper.",
            [("", "\(snapshot.runsReaped)")])
        // A daemon that was partitioned or paused past its lease finds out here: each is a write it did not make.
        metric(
            "e2h_fenced_writes_total", "counter",
            "Writes of this daemon's attempts refused because the attempt had lost its lease (a heartbeat, events, "
                + "metric points, the attempt's end).",
            [("", "\(snapshot.fencedWrites)")])
        metric("e2h_blobs_stored", "gauge", "Blobs stored (all daemons).", [("", "\(storage.blobs)")])
        metric(
            "e2h_blob_content_bytes", "gauge", "Bytes of the stored blobs' content.",
            [("", "\(storage.blobContentBytes)")])
        metric(
            "e2h_stored_bytes", "gauge", "Bytes on disk of the store's tables, with indexes and out-of-line storage.",
            [
                ("{table=\"blobs\"}", "\(storage.blobTableBytes)"),
                ("{table=\"events\"}", "\(storage.eventTableBytes)"),
                ("{table=\"metrics\"}", "\(storage.metricTableBytes)"),
            ])
        metric(
            "e2h_live_streams_opened_total", "counter",
            "Live run streams this daemon opened, for run pages and for `e2h follow` (api).",
            [
                ("{reader=\"page\"}", "\(snapshot.liveStreams.page)"),
                ("{reader=\"api\"}", "\(snapshot.liveStreams.api)"),
            ])
        return lines.joined(separator: "\n") + "\n"
    }
}
