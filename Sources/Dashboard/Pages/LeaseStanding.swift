import Foundation
import WireTypes

/// A running run's lease as `e2h show` and the run page state it: who holds it, when its worker was last heard
/// from, and when the lease ends. A run whose daemon died keeps its last progress until a daemon takes it over after
/// the lease; this is how a reader tells such a run from one that is computing.
public struct LeaseStanding: Sendable, Equatable {
    public var owner: String
    /// When the run's row last changed: while it runs, its worker's last heartbeat or write.
    public var lastHeard: Date
    /// nil from an e2hd older than the field.
    public var expiresAt: Date?

    public init(owner: String, lastHeard: Date, expiresAt: Date?) {
        self.owner = owner
        self.lastHeard = lastHeard
        self.expiresAt = expiresAt
    }

    /// A running run's standing; nil for any other.
    public init?(_ run: RunDetails) {
        guard run.state == .running, let owner = run.leaseOwner else { return nil }
        self.init(owner: owner, lastHeard: run.updatedAt, expiresAt: run.leaseExpiresAt)
    }

    public func text(now: Date) -> String {
        let heard = "\(owner), last heard from \(DisplayText.duration(now.timeIntervalSince(lastHeard))) ago"
        guard let expiresAt else { return heard }
        let left = expiresAt.timeIntervalSince(now)
        if left >= 0 {
            return heard + "; the lease ends in \(DisplayText.duration(left)), and a daemon takes the run over then "
                + "if this worker has not renewed it"
        }
        return heard + "; the lease ended \(DisplayText.duration(-left)) ago, so this worker is gone or cut off: "
            + "a daemon's next sweep takes the run over"
    }
}
