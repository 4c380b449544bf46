import Foundation

/// The events the daemon itself appends to a run's stream: the queue's audit trail. Their types are the one rule
/// for what is the daemon's and what is the pipeline's: every other event of a run's stream is the pipeline's,
/// deterministic, and compared by replays; these never are.
public enum DaemonEventType: String, Codable, Sendable, CaseIterable {
    case submitted = "RunSubmitted"
    case claimed = "RunClaimed"
    case interrupted = "RunInterrupted"
    case resumed = "RunResumed"
    case cancelled = "RunCancelled"
    case failed = "RunFailed"
    case completed = "RunCompleted"
    case replayed = "RunReplayed"
    /// A tombstone: blobs the run released under the retention policy (`BlobsPruned`).
    case blobsPruned = "BlobsPruned"
    /// The first event of a group's own stream, never of a run's.
    case groupSubmitted = "GroupSubmitted"

    /// True for the daemon's own event types, false for the pipeline's.
    public static func isDaemonEvent(_ type: String) -> Bool { DaemonEventType(rawValue: type) != nil }
}

/// A daemon event's payload, recorded as canonical JSON (snake_case keys: `leaseToken` is `lease_token`).
public protocol DaemonEventPayload: Codable, Sendable, Equatable {
    static var type: DaemonEventType { get }
}

/// The run's first event and the one record of its spec: the canonical JSON every attempt executes, and the YAML
/// as the user wrote it.
public struct RunSubmitted: DaemonEventPayload {
    public static let type = DaemonEventType.submitted
    public var name: String
    /// Canonical JSON of the validated spec, every default filled in.
    public var specJson: String
    /// SHA-256 (hex) of `specJson`.
    public var specHash: String
    public var specYaml: String
    public var priority: Int
    /// For a replay job: the run it re-executes and compares with (whose spec this is).
    public var replayOf: String?

    public init(
        name: String, specJson: String, specHash: String, specYaml: String, priority: Int, replayOf: String? = nil
    ) {
        self.name = name
        self.specJson = specJson
        self.specHash = specHash
        self.specYaml = specYaml
        self.priority = priority
        self.replayOf = replayOf
    }
}

public struct RunClaimed: DaemonEventPayload {
    public static let type = DaemonEventType.claimed
    public var worker: String
    public var attempt: Int
    public var leaseToken: Int64
    /// What executes the attempt; nil in records of an e2h that did not record it.
    public var provenance: Provenance?

    public init(worker: String, attempt: Int, leaseToken: Int64, provenance: Provenance? = nil) {
        self.worker = worker
        self.attempt = attempt
        self.leaseToken = leaseToken
        self.provenance = provenance
    }
}

/// An attempt ended without finishing the run: a shutdown, a retryable failure, or an expired lease.
public struct RunInterrupted: DaemonEventPayload {
    public static let type = DaemonEventType.interrupted
    public var reason: String
    /// The worker that stopped; nil when the reaper found its lease expired.
    public var worker: String?
    /// False only when the run was requeued without counting a failure (a shutdown).
    public var countedAsFailure: Bool

    public init(reason: String, worker: String?, countedAsFailure: Bool) {
        self.reason = reason
        self.worker = worker
        self.countedAsFailure = countedAsFailure
    }
}

public struct RunResumed: DaemonEventPayload {
    public static let type = DaemonEventType.resumed
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

public struct RunCancelled: DaemonEventPayload {
    public static let type = DaemonEventType.cancelled
    public var reason: String
    public var worker: String?

    public init(reason: String, worker: String?) {
        self.reason = reason
        self.worker = worker
    }
}

public struct RunFailed: DaemonEventPayload {
    public static let type = DaemonEventType.failed
    public var reason: String
    public var worker: String?

    public init(reason: String, worker: String?) {
        self.reason = reason
        self.worker = worker
    }
}

public struct RunCompleted: DaemonEventPayload {
    public static let type = DaemonEventType.completed
    /// The results table, as `e2h show` prints it.
    public var summary: String
    /// What the runs list shows of the run, computed once here; nil for a replay job, for a run whose headline
    /// could not be computed, and in records of an e2h that did not compute it.
    public var headline: RunHeadline?

    public init(summary: String, headline: RunHeadline? = nil) {
        self.summary = summary
        self.headline = headline
    }
}

/// A replay job's verdict: the replayed run's pipeline events identical, or where they first differ.
public struct RunReplayed: DaemonEventPayload {
    public static let type = DaemonEventType.replayed
    public var report: ReplayReport

    public init(report: ReplayReport) { self.report = report }
}
