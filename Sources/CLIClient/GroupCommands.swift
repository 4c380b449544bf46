import ArgumentParser
import Foundation
import WireTypes

/// Where a command accepts a run or a group: `group:ID` names a group; a plain id (or prefix) names a run, or a
/// group when no run has it.
enum RunOrGroup {
    static let help = "Run id (or a unique prefix); a group's id, or group:ID, for every member of the group."

    static func dispatch<T>(
        _ text: String, run: (String) async throws -> T, group: (String) async throws -> T
    ) async throws -> T {
        if text.hasPrefix("group:") { return try await group(String(text.dropFirst("group:".count))) }
        do {
            return try await run(text)
        } catch let runError as ClientError where runError.code == .usage {
            do {
                return try await group(text)
            } catch let groupError as ClientError where groupError.code == .usage {
                throw runError
            }
        }
    }

    /// The runs an argument names: the run, or every completed member of the group (with the group's name) that
    /// has each of `settings` (`path=value`, as `e2h show GROUP` lists a member's), and for a group whose other
    /// members were left out, a line that says how many and why (a cancelled or failed seed left out without a word
    /// reads as a group of fewer seeds, and the seeds that finished need not be a random few).
    static func completedRuns(
        _ text: String, client: DaemonClient, settings: [String] = []
    ) async throws -> (runs: [String], group: String?, leftOut: String?) {
        // A run has no settings; a group's members have theirs.
        typealias Named = (id: String, settings: [String])
        let (runs, group, leftOut): ([Named], String?, String?) = try await dispatch(
            text,
            run: { ([(id: try await client.get("v1/runs/\($0)", as: RunDetails.self).id, settings: [])], nil, nil) },
            group: { group in
                let details = try await client.get("v1/groups/\(group)", as: GroupDetails.self)
                let completed = details.members.filter { $0.run.state == .completed }
                let others = Self.others(details)
                guard !completed.isEmpty else {
                    throw ClientError(
                        .failure,
                        "no member of group \(details.summary.name) has completed (\(others.counts))\(others.advice)")
                }
                let members = completed.map { member -> Named in
                    (id: member.run.id, settings: member.settings.map { "\($0.path)=\($0.value)" })
                }
                let note =
                    completed.count == details.members.count
                    ? nil
                    : "group \(details.summary.name): compared its \(completed.count) completed of "
                        + "\(details.members.count) members; left out: \(others.counts)\(others.advice)"
                return (members, details.summary.name, note)
            })
        guard !settings.isEmpty else { return (runs.map(\.id), group, leftOut) }
        guard let group else {
            throw ClientError(.usage, "--setting chooses among a group's members; \(text) is a run")
        }
        let chosen = runs.filter { run in settings.allSatisfy(run.settings.contains) }
        guard !chosen.isEmpty else {
            throw ClientError(
                .usage,
                "no completed member of group \(group) has " + settings.joined(separator: " and ")
                    + "; its members' settings: " + Set(runs.flatMap(\.settings)).sorted().joined(separator: ", "))
        }
        return (chosen.map(\.id), group, leftOut)
    }

    /// The members that have not completed, counted by state ("1 failed, 2 running"), and what brings back those
    /// that never will by themselves.
    private static func others(_ details: GroupDetails) -> (counts: String, advice: String) {
        let counts = details.summary.members
        let parts = [
            ("queued", counts.queued), ("running", counts.running), ("failed", counts.failed),
            ("cancelled", counts.cancelled),
        ].filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }
        let advice =
            counts.failed + counts.cancelled > 0
            ? "; failed and cancelled members complete only after `e2h resume \(details.summary.id.prefix(8))`" : ""
        return (parts.joined(separator: ", "), advice)
    }
}

/// The sweep options of `e2h submit`: given, or a `sweep:` block in the spec, they make the submission a group.
struct SweepFlags: ParsableArguments {
    // Unconditional, as every number option's: `--seeds -1..2` got ArgumentParser's "Missing value"; the seed
    // range's own reader says why.
    @Option(
        parsing: .unconditional,
        help: "Run every setting with each of these seeds: a..b (inclusive) or one seed; makes a group.")
    var seeds: String?

    @Option(
        name: .customLong("set"),
        help: "path=v1,v2,... (repeatable): try each value at this spec path; the group is the Cartesian product.")
    var overrides: [String] = []

    @Option(parsing: .unconditional, help: "Refuse groups larger than this (default 1,000).") var maxRuns: Int?

    var isGiven: Bool { seeds != nil || !overrides.isEmpty || maxRuns != nil }
}

/// `e2h submit` of a group (a sweep, or a clone of a run): queues it and prints the group and its members.
struct GroupSubmitter {
    let client: DaemonClient
    let json: Bool

    func submit(path: String, body: some Encodable, follow: Bool) async throws {
        let response = try await client.post(path, body: body, as: GroupSubmitResponse.self)
        let group = response.group
        if json {
            try printJSON(response)
        } else {
            let verb = response.created ? "queued" : "already submitted with this key"
            print("group \(group.summary.id) \(verb): \(group.members.count) runs of \(group.summary.name)")
            print(GroupPrinter.membersTable(group).rendered())
        }
        if follow {
            for member in group.members {
                try await RunFollower(client: client, run: member.run.id, quiet: json).follow()
            }
        } else if !json {
            print("next: e2h show \(group.summary.id)")
        }
    }
}

enum GroupPrinter {
    static func membersTable(_ group: GroupDetails) -> TextTable {
        TextTable(
            header: ["RUN", "STATE", "STAGE", "SETTINGS"],
            rows: group.members.map { member in
                let run = member.run
                return [
                    run.id, run.state.rawValue + (run.cancelRequested && !run.state.isFinal ? "*" : ""),
                    run.progress.map { ProgressLine(progress: $0).short } ?? "-", member.settings.label,
                ]
            })
    }

    static func show(_ group: GroupDetails) -> String {
        let summary = group.summary
        return [
            "group:      \(summary.id)",
            "name:       \(summary.name)",
            "members:    \(summary.members.total) (\(summary.members.text))",
            "submitted:  \(ISO8601DateFormatter().string(from: summary.submittedAt))",
            "",
            membersTable(group).rendered(),
        ].joined(separator: "\n")
    }
}

struct Groups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List groups of runs, newest first.")

    @Option(
        name: .customLong("limit"), parsing: .unconditional, help: "At most this many (default: E2H_LIMIT, else 50).")
    var limitOption: Int?
    var limit: Int { limitOption ?? ClientEnvironment.current.limit }
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func run() async throws {
        try await E2H.guarded {
            let list = try await connection.client().get(
                "v1/groups", query: ["limit": "\(limit)"], as: GroupList.self)
            if output.json { return try printJSON(list) }
            let table = TextTable(
                header: ["GROUP", "NAME", "RUNS", "MEMBERS", "SUBMITTED"],
                rows: list.groups.map { group in
                    [
                        group.id, group.name, "\(group.members.total)", group.members.text,
                        ISO8601DateFormatter().string(from: group.submittedAt),
                    ]
                })
            print(output.csv ? table.csv() : table.rendered())
        }
    }
}

/// What a command that accepts a run or a group found.
enum RunOrGroupDetails {
    case run(RunDetails)
    case group(GroupDetails)

    /// What `post(_:to:client:)` asks of a run or a group.
    enum Action: String {
        case cancel, resume
    }

    /// `POST v1/runs/ID/ACTION` or `POST v1/groups/ID/ACTION` for whichever `text` names.
    static func post(_ action: Action, to text: String, client: DaemonClient) async throws -> RunOrGroupDetails {
        try await RunOrGroup.dispatch(
            text,
            run: {
                .run(
                    try await client.post(
                        "v1/runs/\($0)/\(action.rawValue)", body: [String: String](), as: RunDetails.self))
            },
            group: {
                .group(
                    try await client.post(
                        "v1/groups/\($0)/\(action.rawValue)", body: [String: String](), as: GroupDetails.self))
            })
    }

    func printAsJSON() throws {
        switch self {
        case .run(let run): try printJSON(run)
        case .group(let group): try printJSON(group)
        }
    }
}

struct Select: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the ids of the runs of the group's best setting by a validation figure, for scripts.",
        discussion: """
            Members are taken by their setting of everything but the seed, and the setting whose members' figures \
            have the largest mean is chosen; its runs (one per seed) are printed one per line, and the setting with \
            its mean on standard error. Seeds are aggregated, never picked: the luckiest seed's figures would be \
            optimistic. Only validation rows choose (validation:sft/pass@1, or validation:<policy>/pass@1 for a PPO \
            variant or DPO policy with checkpoint: best_validation): compare's rows are test-split scores, and \
            choosing by one would make the chosen run's test figure optimistic.
            """)

    @Argument(help: "Group id (or a unique prefix).") var group: String
    @Option(help: "The validation row to maximize, e.g. validation:sft/pass@1.") var max: String
    @OptionGroup var connection: ConnectionFlags
    @Flag(
        name: .customLong("json"),
        help: "Print JSON: every member's value and every setting's mean (default: E2H_OUTPUT=json).")
    var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            let response = try await connection.client().get(
                "v1/groups/\(group)/select", query: ["max": max], as: SelectionResponse.self)
            if json { return try printJSON(response) }
            FileHandle.standardError.write(Data((Self.describe(response.chosen, row: response.row) + "\n").utf8))
            for run in response.chosen.runs { print(run) }
        }
    }

    /// `chosen: rl.dpo.nll_weight=2 — validation:dpo/pass@1 0.497, mean of 1 of 1 seed(s)`.
    static func describe(_ setting: SelectionResponse.Setting, row: String) -> String {
        let label = setting.settings.isEmpty ? "the group's only setting" : setting.settings.label
        let mean = setting.mean.map { String(format: "%.3f", $0) } ?? "-"
        return "chosen: \(label) — \(row) \(mean), mean of \(setting.recorded) of \(setting.runs.count) seed(s)"
    }
}
