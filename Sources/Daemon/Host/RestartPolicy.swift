/// When to restart the embedded PostgreSQL after it died, and when to give up. A value type, so the policy is
/// tested without a server: restarts back off (0.5 s, 1 s, 2 s, ... at most `maximumBackoff`), and more than
/// `maximumRestarts` deaths within `window` end the daemon, so that a service manager takes over instead of a
/// loop restarting a server that cannot stay up (a full disk, a broken data directory).
struct RestartPolicy: Sendable, Equatable {
    enum Action: Sendable, Equatable {
        case restart(after: Duration)
        case giveUp(deaths: Int)
    }

    var maximumRestarts = 5
    var window: Duration = .seconds(600)
    var firstBackoff: Duration = .milliseconds(500)
    var maximumBackoff: Duration = .seconds(30)

    /// Deaths inside the window, as offsets from an arbitrary origin (the caller's clock), oldest first.
    private(set) var deaths: [Duration] = []

    /// The server was found dead at `now` (any monotonic offset).
    mutating func died(at now: Duration) -> Action {
        deaths.removeAll { now - $0 > window }
        deaths.append(now)
        guard deaths.count <= maximumRestarts else { return .giveUp(deaths: deaths.count) }
        var backoff = firstBackoff
        for _ in 1..<deaths.count where backoff < maximumBackoff { backoff *= 2 }
        return .restart(after: min(backoff, maximumBackoff))
    }
}
