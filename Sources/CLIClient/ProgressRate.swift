import Foundation
import WireTypes

/// The rate (units per second) and time left that `follow`'s progress line shows, estimated from the progress
/// reports the follower saw and when. The daemon's rate is the task's average so far, which lags when the speed
/// changes (a warm-up, a machine that got busy); this weighs recent reports more: an exponential average of the
/// rates between reports, each weighted by the time it covers (half-life `halfLife` seconds), started from the
/// daemon's figure. A pure policy: the caller passes the clock.
struct ProgressRate {
    /// Seconds after which a rate observed before counts half.
    static let halfLife = 10.0

    /// The task the estimate is for; another task starts it afresh.
    private var task: TaskKey?
    private var last: (done: Int, at: Double)?
    /// Units per second; nil until the daemon reported one or two reports of the same task were seen.
    private(set) var unitsPerSecond: Double?

    private struct TaskKey: Equatable {
        var stage: StageName
        var name: String?
        var total: Int?
    }

    /// Takes in a report seen at `seconds` (any monotonic clock).
    mutating func observe(_ progress: RunProgress, at seconds: Double) {
        let task = TaskKey(stage: progress.stage, name: progress.task, total: progress.total)
        guard task == self.task, let last, let done = progress.done else {
            self.task = task
            last = progress.done.map { ($0, seconds) }
            unitsPerSecond = progress.ratePerSecond
            return
        }
        let elapsed = seconds - last.at
        // Nothing new (the same report seen again), or a count that went back (a resumed attempt): no evidence
        // about the speed; a resumed attempt's count restarts the interval.
        guard done > last.done, elapsed > 0 else {
            if done < last.done { self.last = (done, seconds) }
            return
        }
        let observed = Double(done - last.done) / elapsed
        let weight = 1 - Self.halfLifeDecay(elapsed)
        unitsPerSecond = unitsPerSecond.map { $0 + weight * (observed - $0) } ?? observed
        self.last = (done, seconds)
    }

    /// Seconds until `progress`'s total at the estimated rate; nil when the total or a rate is unknown.
    func secondsLeft(_ progress: RunProgress) -> Double? {
        guard let done = progress.done, let total = progress.total, total >= done, let rate = unitsPerSecond,
            rate > 0
        else { return nil }
        return Double(total - done) / rate
    }

    /// How much of the old estimate survives `elapsed` seconds.
    private static func halfLifeDecay(_ elapsed: Double) -> Double {
        exp2(-elapsed / halfLife)
    }
}
