import WireTypes

/// One long loop as a client sees it: what it works on, in which unit, how much there is, and since when this
/// execution has been running it (for the rate).
struct ProgressTask {
    var stage: StageName
    var task: String
    var unit: String
    var total: Int
    /// Units already done when this execution took the loop up (restored from the record); not part of its rate.
    var doneAtStart = 0
    var started = ContinuousClock.now

    func progress(done: Int, loss: Double? = nil, at now: ContinuousClock.Instant) -> RunProgress {
        let elapsed = (now - started) / .seconds(1)
        let rate = elapsed > 0 && done > doneAtStart ? Double(done - doneAtStart) / elapsed : nil
        return RunProgress(
            stage: stage, task: task, done: done, total: total, unit: unit, loss: loss, ratePerSecond: rate)
    }
}

/// Which progress reports go out: a task's first and last always, the others at most once per `interval`, so
/// that loops may report after every batch and the reports still cost nothing.
struct ReportThrottle {
    var interval: Duration
    private var lastTask: String?
    private var lastSent: ContinuousClock.Instant?

    init(interval: Duration) { self.interval = interval }

    mutating func admits(_ progress: RunProgress, at now: ContinuousClock.Instant) -> Bool {
        let task = "\(progress.stage.rawValue)/\(progress.task ?? "")"
        let finished = progress.done != nil && progress.done == progress.total
        if task == lastTask, !finished, let lastSent, now - lastSent < interval { return false }
        lastTask = task
        lastSent = now
        return true
    }
}
