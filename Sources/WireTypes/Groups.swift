import Foundation

/// `POST /v1/groups`: a spec and its sweep. The daemon expands the sweep (the spec's `sweep:` block, with `seeds` and
/// `overrides` replacing its seeds and the block's values for the same path) into member runs, each validated like
/// any spec; nothing is queued unless every member is valid.
public struct GroupSubmitRequest: Codable, Sendable {
    public var yaml: String
    public var file: String
    /// `a..b` (inclusive) or one seed.
    public var seeds: String?
    /// `path=value[,value...]` each, as `--set` takes them.
    public var overrides: [String]
    /// Raises (or lowers) the limit of runs in one group, 1,000 by default.
    public var maxRuns: Int?
    public var priority: Int
    public var idempotencyKey: String?

    public init(
        yaml: String, file: String, seeds: String? = nil, overrides: [String] = [], maxRuns: Int? = nil,
        priority: Int = 0, idempotencyKey: String? = nil
    ) {
        self.yaml = yaml
        self.file = file
        self.seeds = seeds
        self.overrides = overrides
        self.maxRuns = maxRuns
        self.priority = priority
        self.idempotencyKey = idempotencyKey
    }
}

/// `POST /v1/runs/:id/clone` (`e2h submit --from RUN`): the run's recorded spec again as a group, with `--set` edits
/// (each `path=value[,value...]`) and, optionally, other seeds.
public struct CloneRequest: Codable, Sendable {
    public var seeds: String?
    public var overrides: [String]
    public var maxRuns: Int?
    public var priority: Int
    public var idempotencyKey: String?

    public init(
        seeds: String? = nil, overrides: [String] = [], maxRuns: Int? = nil, priority: Int = 0,
        idempotencyKey: String? = nil
    ) {
        self.seeds = seeds
        self.overrides = overrides
        self.maxRuns = maxRuns
        self.priority = priority
        self.idempotencyKey = idempotencyKey
    }
}

/// One value a member was given by the sweep: `policy.sft.learning_rate` = `1e-3`, or `seed` = `2`.
public struct GroupSetting: Codable, Sendable, Hashable {
    public var path: String
    public var value: String

    public init(path: String, value: String) {
        self.path = path
        self.value = value
    }
}

extension [GroupSetting] {
    /// `policy.sft.learning_rate=1e-3 seed=2`, as listings show a member.
    public var label: String { map { "\($0.path)=\($0.value)" }.joined(separator: " ") }
}

/// How many of a group's members are in each state.
public struct GroupStateCounts: Codable, Sendable, Equatable {
    public var queued = 0
    public var running = 0
    public var completed = 0
    public var failed = 0
    public var cancelled = 0

    public init(states: [RunState] = []) {
        for state in states { add(state, count: 1) }
    }

    public mutating func add(_ state: RunState, count: Int) {
        switch state {
        case .queued: queued += count
        case .running: running += count
        case .completed: completed += count
        case .failed: failed += count
        case .cancelled: cancelled += count
        }
    }

    public var total: Int { queued + running + completed + failed + cancelled }

    /// `3 completed, 1 running`: the non-zero states, in lifecycle order.
    public var text: String {
        let parts = [
            (completed, "completed"), (running, "running"), (queued, "queued"), (failed, "failed"),
            (cancelled, "cancelled"),
        ]
        .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return parts.isEmpty ? "no members" : parts.joined(separator: ", ")
    }
}

/// A group as `e2h groups` lists it.
public struct GroupSummary: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var submittedAt: Date
    public var members: GroupStateCounts

    public init(id: String, name: String, submittedAt: Date, members: GroupStateCounts) {
        self.id = id
        self.name = name
        self.submittedAt = submittedAt
        self.members = members
    }
}

public struct GroupList: Codable, Sendable {
    public var groups: [GroupSummary]

    public init(groups: [GroupSummary]) { self.groups = groups }
}

/// One member of a group: its sweep values and its queue row.
public struct GroupMemberDetails: Codable, Sendable, Equatable {
    public var settings: [GroupSetting]
    public var run: RunDetails

    public init(settings: [GroupSetting], run: RunDetails) {
        self.settings = settings
        self.run = run
    }
}

/// `GET /v1/groups/{id}`: the group and every member, in sweep order.
public struct GroupDetails: Codable, Sendable, Equatable {
    public var summary: GroupSummary
    public var members: [GroupMemberDetails]

    public init(summary: GroupSummary, members: [GroupMemberDetails]) {
        self.summary = summary
        self.members = members
    }
}

public struct GroupSubmitResponse: Codable, Sendable {
    public var group: GroupDetails
    /// False when the idempotency key named a group submitted before: that group is returned, nothing is queued.
    public var created: Bool

    public init(group: GroupDetails, created: Bool) {
        self.group = group
        self.created = created
    }
}

/// The first event of a group's stream (`group-<id>`): what was submitted and the runs it became, so the group is
/// reproducible from its record.
public struct GroupSubmitted: DaemonEventPayload {
    public static let type = DaemonEventType.groupSubmitted
    public var name: String
    /// The spec as written (its `sweep:` block included) and the command line's additions to the sweep.
    public var specYaml: String
    public var seeds: String?
    public var overrides: [String]
    public var members: [Member]
    /// For a clone (`submit --from`): the run whose recorded spec it edits. `specYaml` is that run's, and `overrides`
    /// begin with the run's own sweep values, so the record alone reproduces every member.
    public var from: String?

    public struct Member: Codable, Sendable, Equatable {
        public var run: String
        public var specHash: String
        public var settings: [GroupSetting]

        public init(run: String, specHash: String, settings: [GroupSetting]) {
            self.run = run
            self.specHash = specHash
            self.settings = settings
        }
    }

    public init(
        name: String, specYaml: String, seeds: String?, overrides: [String], members: [Member], from: String? = nil
    ) {
        self.name = name
        self.specYaml = specYaml
        self.seeds = seeds
        self.overrides = overrides
        self.members = members
        self.from = from
    }
}

/// `GET /v1/groups/:id/select?max=ROW` (`e2h select GROUP --max ROW`): the member with the largest validation figure.
public struct SelectionResponse: Codable, Sendable, Equatable {
    public struct Candidate: Codable, Sendable, Equatable {
        public var run: String
        public var settings: [GroupSetting]
        /// nil for a member that has not recorded the figure (yet).
        public var value: Double?

        public init(run: String, settings: [GroupSetting], value: Double?) {
            self.run = run
            self.settings = settings
            self.value = value
        }
    }

    /// The members that share one setting of everything but the seed, and the mean of their figures.
    public struct Setting: Codable, Sendable, Equatable {
        /// The member's settings without the seed; empty for a group of seeds alone.
        public var settings: [GroupSetting]
        public var runs: [String]
        /// The mean over the seeds that every scored setting has recorded; nil when none counts.
        public var mean: Double?
        /// How many members' figures the mean counts.
        public var recorded: Int

        public init(settings: [GroupSetting], runs: [String], mean: Double?, recorded: Int) {
            self.settings = settings
            self.runs = runs
            self.mean = mean
            self.recorded = recorded
        }
    }

    public var group: String
    public var row: String
    /// The setting with the largest mean; of equal means, the first in sweep order. Its seeds are chosen together:
    /// picking the luckiest seed would make the chosen figure optimistic.
    public var chosen: Setting
    public var settings: [Setting]
    public var candidates: [Candidate]

    public init(group: String, row: String, chosen: Setting, settings: [Setting], candidates: [Candidate]) {
        self.group = group
        self.row = row
        self.chosen = chosen
        self.settings = settings
        self.candidates = candidates
    }
}
