/// How `e2h follow` rides out a daemon that is away for a moment (a restart, an upgrade, a dropped connection): it
/// tries again after growing pauses until the daemon has been unreachable for `patience`, then gives up with the
/// error it last got. A policy without I/O: the follower reports each failure and success with the time it saw it.
struct Reconnection {
    /// How long the daemon may stay unreachable; the client's request timeout (E2H_TIMEOUT), so that "how long e2h
    /// waits for e2hd" means one thing.
    let patience: Duration
    /// When the current outage began; nil while connected.
    private(set) var lostSince: ContinuousClock.Instant?
    private var failures = 0

    init(patience: Duration) {
        self.patience = patience
    }

    /// A try failed at `now`: the pause before the next one, or nil when the outage has lasted `patience` (or will
    /// have by the next try) and the follower should give up.
    mutating func failed(at now: ContinuousClock.Instant) -> Duration? {
        let start = lostSince ?? now
        lostSince = start
        failures += 1
        let left = start + patience - now
        guard left > .zero else { return nil }
        // 0.5 s, 1 s, 2 s, then every 4 s: a restart is back within seconds, and a longer outage costs no CPU.
        let pause = Duration.milliseconds(500) * (1 << min(failures - 1, 3))
        return min(pause, left)
    }

    /// A try reached the daemon: the outage, if any, is over.
    mutating func succeeded() {
        lostSince = nil
        failures = 0
    }
}
