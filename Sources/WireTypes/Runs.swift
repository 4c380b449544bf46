import Foundation

/// The states of a run in the queue. `queued` and `running` are live; the other three are final.
public enum RunState: String, Codable, Sendable, CaseIterable {
    case queued, running, completed, failed, cancelled

    public var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// The priorities a submission may carry: the queue orders by them in a 32-bit column, and nobody needs more than
/// a million levels. e2hd refuses others with a 400 (a larger one once reached the database as a 503); `e2h` checks
/// `E2H_PRIORITY` against the same range.
public enum RunPriority {
    public static let range = -1_000_000...1_000_000
}

/// A run's name, which its spec gives: the rule the spec reader applies and an import checks a bundle's record by.
public enum RunName {
    public static let rule = "a name is 1–100 letters, digits, '-', '_' or '.'"

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100 && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }
}

/// `POST /v1/runs`: the spec's YAML text as the user wrote it (the daemon parses and validates it).
public struct SubmitRequest: Codable, Sendable {
    public var yaml: String
    public var file: String
    public var priority: Int
    public var idempotencyKey: String?

    public init(yaml: String, file: String, priority: Int = 0, idempotencyKey: String? = nil) {
        self.yaml = yaml
        self.file = file
        self.priority = priority
        self.idempotencyKey = idempotencyKey
    }
}

public struct SubmitResponse: Codable, Sendable {
    public var run: RunDetails
    /// False when the idempotency key named a run submitted before: that run is returned, nothing is queued.
    public var created: Bool

    public init(run: RunDetails, created: Bool) {
        self.run = run
        self.created = created
    }
}

/// One queue row as the API shows it.
public struct RunDetails: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: RunState
    public var priority: Int
    public var attempt: Int
    public var failures: Int
    public var maxAttempts: Int
    public var specHash: String
    public var leaseOwner: String?
    /// When a running run's lease ends unless its worker renews it (a heartbeat); nil when it is not running, and
    /// from an e2hd older than the field. `updatedAt` is when the worker was last heard from.
    public var leaseExpiresAt: Date?
    public var cancelRequested: Bool
    public var submittedAt: Date
    public var updatedAt: Date
    /// The reasons of every failed or interrupted attempt, oldest first.
    public var errors: [String]
    /// Where a running run is, as its pipeline last reported it; nil when it is not running.
    public var progress: RunProgress?
    public var eventCount: Int
    /// For a replay job: the run it re-executes.
    public var replayOf: String?
    /// The group the run is a member of, if any.
    public var group: String?
    /// The run's tags (`e2h tag`), sorted; nil in archives exported before runs had tags.
    public var tags: [String]?
    /// A completed run's headline (`RunHeadline`), computed when it completed; nil for other runs, replay jobs, and
    /// runs completed by an e2h that did not compute it.
    public var headline: RunHeadline?

    public init(
        id: String, name: String, state: RunState, priority: Int, attempt: Int, failures: Int, maxAttempts: Int,
        specHash: String, leaseOwner: String?, cancelRequested: Bool, submittedAt: Date, updatedAt: Date,
        errors: [String], progress: RunProgress?, eventCount: Int,
        replayOf: String? = nil, group: String? = nil, tags: [String]? = nil, headline: RunHeadline? = nil,
        leaseExpiresAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.state = state
        self.priority = priority
        self.attempt = attempt
        self.failures = failures
        self.maxAttempts = maxAttempts
        self.specHash = specHash
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.submittedAt = submittedAt
        self.updatedAt = updatedAt
        self.errors = errors
        self.progress = progress
        self.eventCount = eventCount
        self.replayOf = replayOf
        self.group = group
        self.tags = tags
        self.headline = headline
    }
}

public struct RunList: Codable, Sendable {
    public var runs: [RunDetails]

    public init(runs: [RunDetails]) { self.runs = runs }
}

/// One recorded event of a run's stream.
public struct WireEvent: Codable, Sendable, Equatable {
    public var position: Int64
    public var version: Int64
    public var id: UUID
    public var type: String
    public var schemaVersion: Int
    public var payload: JSONValue
    public var metadata: JSONValue
    public var recordedAt: Date
    public var hash: String

    public init(
        position: Int64, version: Int64, id: UUID, type: String, schemaVersion: Int, payload: JSONValue,
        metadata: JSONValue, recordedAt: Date, hash: String
    ) {
        self.position = position
        self.version = version
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.payload = payload
        self.metadata = metadata
        self.recordedAt = recordedAt
        self.hash = hash
    }
}

/// `GET /v1/runs/{id}/events?after=V&wait=S`: the page after version V; with `wait`, the daemon holds the
/// request up to S seconds until there is something new (long-poll).
public struct EventPage: Codable, Sendable {
    public var run: RunDetails
    public var events: [WireEvent]
    /// Pass as `after` for the next page.
    public var lastVersion: Int64

    public init(run: RunDetails, events: [WireEvent], lastVersion: Int64) {
        self.run = run
        self.events = events
        self.lastVersion = lastVersion
    }
}
