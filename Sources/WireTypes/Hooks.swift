import Foundation

/// What a webhook is told of: a run's end (completed, failed, cancelled), or a stall — an attempt's lease expired and
/// the reaper took the run back (requeued; a stall that ends the run is told as its end).
public enum HookTrigger: String, Codable, Sendable, CaseIterable {
    case completed, failed, cancelled, stalled
}

/// The body a webhook receives: e2h's JSON (`HookNotification`), or Slack's incoming-webhook shape `{"text": …}`.
public enum HookFormat: String, Codable, Sendable, CaseIterable {
    case json, slack
}

/// `POST /v1/hooks`.
public struct HookRequest: Codable, Sendable {
    public var url: String
    public var triggers: [HookTrigger]
    public var format: HookFormat
    /// The HMAC-SHA256 key of the deliveries' signatures; absent: the daemon makes one and returns it once.
    public var secret: String?

    public init(url: String, triggers: [HookTrigger], format: HookFormat, secret: String?) {
        self.url = url
        self.triggers = triggers
        self.format = format
        self.secret = secret
    }
}

/// A registered webhook and how its deliveries went (the secret is never shown again).
public struct Hook: Codable, Sendable, Equatable {
    public var id: String
    public var url: String
    public var triggers: [HookTrigger]
    public var format: HookFormat
    public var createdAt: Date
    public var delivered: Int
    /// Waiting for their first try or for a retry.
    public var pending: Int
    /// Given up after the last retry.
    public var abandoned: Int
    public var lastError: String?

    public init(
        id: String, url: String, triggers: [HookTrigger], format: HookFormat, createdAt: Date, delivered: Int,
        pending: Int, abandoned: Int, lastError: String?
    ) {
        self.id = id
        self.url = url
        self.triggers = triggers
        self.format = format
        self.createdAt = createdAt
        self.delivered = delivered
        self.pending = pending
        self.abandoned = abandoned
        self.lastError = lastError
    }
}

/// The answer to `POST /v1/hooks`: the hook, and the secret its signatures use — shown this once.
public struct HookCreated: Codable, Sendable {
    public var hook: Hook
    public var secret: String

    public init(hook: Hook, secret: String) {
        self.hook = hook
        self.secret = secret
    }
}

public struct HookList: Codable, Sendable {
    public var hooks: [Hook]

    public init(hooks: [Hook]) { self.hooks = hooks }
}

/// The JSON body of a delivery (format `json`), canonical JSON: signed and sent byte for byte as recorded.
public struct HookNotification: Codable, Sendable, Equatable {
    public var trigger: HookTrigger
    public var run: String
    public var name: String
    /// The run's state after the event (a stalled run is queued again).
    public var state: RunState
    /// The summary of a completed run, or why it failed, was cancelled or stalled.
    public var detail: String
    /// ISO 8601, UTC.
    public var occurredAt: String
    /// For a replay job, the run it replays (its `detail` then is the verdict): without it a receiver saw the same
    /// run name complete twice. Absent for a run.
    public var replayOf: String?

    public init(
        trigger: HookTrigger, run: String, name: String, state: RunState, detail: String, occurredAt: String,
        replayOf: String? = nil
    ) {
        self.trigger = trigger
        self.run = run
        self.name = name
        self.state = state
        self.detail = detail
        self.occurredAt = occurredAt
        self.replayOf = replayOf
    }
}
