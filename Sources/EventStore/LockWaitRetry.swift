/// When an idempotent operation whose lock wait timed out (SQLSTATE 55P03) tries again, and when it gives up: a
/// value, so the schedule is tested without a server.
///
/// A lock wait times out under contention as well as behind a stalled session: on a loaded machine one slow fsync
/// (a large blob's commit, the cluster-wide NOTIFY lock every append's COMMIT takes) can hold a lock past
/// `lock_timeout`, and failing there cost a worker its whole attempt. Waiting it out is safe only for a body that
/// may run twice, and it ends: a session stalled inside its transaction loses its locks after
/// `idleInTransactionTimeout`, so a budget at least that long outlasts any stall that is not a dead server.
struct LockWaitRetry {
    let budget: Duration
    private var next: Duration = .milliseconds(100)

    static let longestPause: Duration = .seconds(2)

    init(budget: Duration) { self.budget = budget }

    /// The pause before the next try after a lock wait timed out `elapsed` after the operation began, or nil when
    /// the budget does not leave room for it: the pauses double from 0.1 s up to 2 s.
    mutating func pause(elapsed: Duration) -> Duration? {
        let pause = next
        guard elapsed + pause <= budget else { return nil }
        next = min(next * 2, Self.longestPause)
        return pause
    }
}
