import Analysis
import ArgumentParser
import Canonical
import Dashboard
import Foundation
import Pipeline
import WireTypes

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue an experiment spec (YAML), or a group of runs from it.",
        discussion: """
            With --seeds or --set, or when the spec has a `sweep:` block, the spec is a group: every combination of \
            the --set values, each with every seed, queued as ordinary runs in one step (all or none). `e2h groups` \
            lists groups; show, cancel and resume accept a group's id. With --from RUN instead of a file, the run's \
            recorded spec is queued again as a group, with the --set edits and --seeds.
            """)

    @Argument(help: "The spec file.") var file: String?
    @Option(help: "Clone this run's recorded spec (id or prefix) instead of reading a file; edit it with --set.")
    var from: String?
    @Flag(help: "Follow the run until it ends.") var follow = false
    // Unconditional, as every number option's: `--priority -5` got ArgumentParser's "Missing value".
    @Option(
        name: .customLong("priority"), parsing: .unconditional,
        help: "Higher runs first; FIFO within a priority (default: E2H_PRIORITY, else 0).")
    var priorityOption: Int?
    var priority: Int { priorityOption ?? ClientEnvironment.current.priority }
    @Option(help: "Idempotency key: submitting the same key again returns the first run (or group).") var key: String?
    @OptionGroup var sweep: SweepFlags
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            guard (file == nil) != (from == nil) else {
                throw ClientError(.usage, "give a spec file or --from RUN, not both or neither")
            }
            let client = try connection.client()
            if let from {
                let request = CloneRequest(
                    seeds: sweep.seeds, overrides: sweep.overrides, maxRuns: sweep.maxRuns, priority: priority,
                    idempotencyKey: key)
                return try await GroupSubmitter(client: client, json: json).submit(
                    path: "v1/runs/\(from)/clone", body: request, follow: follow)
            }
            guard let file else { return }
            let yaml = String(decoding: try readUserFile(file), as: UTF8.self)
            if sweep.isGiven || SpecGroup.hasSweep(yaml: yaml, file: file) {
                let request = GroupSubmitRequest(
                    yaml: yaml, file: file, seeds: sweep.seeds, overrides: sweep.overrides, maxRuns: sweep.maxRuns,
                    priority: priority, idempotencyKey: key)
                return try await GroupSubmitter(client: client, json: json).submit(
                    path: "v1/groups", body: request, follow: follow)
            }
            let response = try await client.post(
                "v1/runs", body: SubmitRequest(yaml: yaml, file: file, priority: priority, idempotencyKey: key),
                as: SubmitResponse.self)
            if json {
                try printJSON(response)
            } else {
                let verb = response.created ? "queued" : "already submitted with this key"
                print("\(response.run.id) \(verb) (\(response.run.name))")
            }
            if follow {
                try await RunFollower(client: client, run: response.run.id, quiet: json).follow()
            } else if !json {
                print("next: e2h follow \(response.run.id)")
            }
        }
    }
}

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List runs, newest first.")

    @Option(help: "Only runs in this state (queued, running, completed, failed, cancelled).") var status: RunState?
    @Option(
        name: .customLong("limit"), parsing: .unconditional, help: "At most this many (default: E2H_LIMIT, else 50).")
    var limitOption: Int?
    var limit: Int { limitOption ?? ClientEnvironment.current.limit }
    @Option(
        name: .customLong("where"),
        help: """
            A condition PostgreSQL evaluates: tag:NAME, status (in (...)), name, kind (run or replay), spec.<path> \
            with =, !=, <, <=, >, >=; \
            joined with and/or, e.g. 'tag:baseline and spec.policy.sft.steps >= 400'.
            """)
    var condition: String?
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func run() async throws {
        try await E2H.guarded {
            var query = ["limit": "\(limit)"]
            if let status { query["status"] = status.rawValue }
            if let condition { query["where"] = condition }
            let list = try await connection.client().get("v1/runs", query: query, as: RunList.self)
            if output.json { return try printJSON(list) }
            let table = TextTable(
                header: [
                    "RUN", "NAME", "GROUP", "STATE", "PRI", "ATTEMPT", "STAGE", "EVENTS", "HARD", "TAGS", "SUBMITTED",
                ],
                rows: list.runs.map { run in
                    [
                        // A group's id prefix: enough to tell the groups of a listing apart, and `e2h show` accepts it.
                        run.id, run.name, run.group.map { String($0.prefix(8)) } ?? "-",
                        run.state.rawValue + (run.cancelRequested && !run.state.isFinal ? "*" : ""),
                        "\(run.priority)", "\(run.attempt)",
                        run.progress.map { ProgressLine(progress: $0).short } ?? "-", "\(run.eventCount)",
                        // The headline's row is the spec's baseline; `e2h show` and `compare` name it.
                        run.headline.map(ComparisonTable.headlineAccuracy) ?? "-",
                        (run.tags ?? []).isEmpty ? "-" : (run.tags ?? []).joined(separator: ","),
                        ISO8601DateFormatter().string(from: run.submittedAt),
                    ]
                })
            print(output.csv ? table.csv() : table.rendered())
        }
    }
}

extension RunState: ExpressibleByArgument {}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one run, or a group and its members.")

    @Argument(help: ArgumentHelp(stringLiteral: RunOrGroup.help)) var run: String
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            let client = try connection.client()
            let found = try await RunOrGroup.dispatch(
                run, run: { RunOrGroupDetails.run(try await client.get("v1/runs/\($0)", as: RunDetails.self)) },
                group: { RunOrGroupDetails.group(try await client.get("v1/groups/\($0)", as: GroupDetails.self)) })
            let summary: RunDetails
            switch found {
            case .group(let group):
                if json { return try printJSON(group) }
                let annotations = try await client.get(
                    "v1/groups/\(group.summary.id)/annotations", as: Annotations.self)
                return print(
                    ([GroupPrinter.show(group)] + AnnotationPrinter.lines(annotations)).joined(separator: "\n"))
            case .run(let run):
                summary = run
            }
            if json { return try printJSON(summary) }
            let formatter = ISO8601DateFormatter()
            var lines = [
                "run:        \(summary.id)",
                "name:       \(summary.name)",
                "state:      \(summary.state.rawValue)\(summary.cancelRequested && !summary.state.isFinal ? " (cancel requested)" : "")",
                "progress:   \(summary.progress.map { ProgressLine(progress: $0).text } ?? "-")",
                "priority:   \(summary.priority)",
                "attempt:    \(summary.attempt) (failures \(summary.failures) of at most \(summary.maxAttempts))",
                "spec hash:  \(summary.specHash)",
                "events:     \(summary.eventCount)",
                "submitted:  \(formatter.string(from: summary.submittedAt))",
                "updated:    \(formatter.string(from: summary.updatedAt))",
            ]
            if let headline = summary.headline {
                let claims = ComparisonTable.headlineClaims(headline).map { ", \($0)" } ?? ""
                lines.append("hard:       \(ComparisonTable.headlineAccuracy(headline)) (\(headline.row)\(claims))")
            }
            if let original = summary.replayOf {
                lines.append("replay of:  \(original)")
                if summary.state == .completed {
                    lines.append("verdict:    \(try await Replay.verdict(of: summary.id, client).summary)")
                }
            }
            if let group = summary.group { lines.append("group:      \(group)") }
            if let owner = summary.leaseOwner {
                lines.append("lease:      \(LeaseStanding(summary)?.text(now: .now) ?? owner)")
            }
            for error in summary.errors { lines.append("error:      \(error)") }
            let provenance = try await client.get("v1/runs/\(summary.id)/provenance", as: ProvenanceList.self)
            lines += ProvenancePrinter.lines(provenance)
            lines += AnnotationPrinter.lines(
                try await client.get("v1/runs/\(summary.id)/annotations", as: Annotations.self))
            print(lines.joined(separator: "\n"))
        }
    }
}

struct Follow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow a run's progress until it ends.")

    @Argument(help: "Run id (or a unique prefix).") var run: String
    @Flag(
        help: """
            Exit with the run's outcome: 0 completed, 4 failed, 5 cancelled (without it, any end but completed \
            exits 1, like every other failure).
            """)
    var exitStatus = false
    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        try await E2H.guarded {
            try await RunFollower(
                client: try connection.client(), run: run, quiet: false, outcomeCodes: exitStatus
            ).follow()
        }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a run: a queued one at once, a running one at its next step.")

    @Argument(help: ArgumentHelp(stringLiteral: RunOrGroup.help)) var run: String
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            let found = try await RunOrGroupDetails.post(.cancel, to: run, client: try connection.client())
            switch found {
            case _ where json: try found.printAsJSON()
            case .run(let summary):
                print(
                    summary.state == .cancelled ? "\(summary.id) cancelled" : "\(summary.id) will stop at its next step"
                )
            case .group(let group):
                print("group \(group.summary.id): \(group.summary.members.text)")
            }
        }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue a failed, cancelled or interrupted run again; it resumes from its last checkpoint.")

    @Argument(help: ArgumentHelp(stringLiteral: RunOrGroup.help)) var run: String
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            let found = try await RunOrGroupDetails.post(.resume, to: run, client: try connection.client())
            switch found {
            case _ where json: try found.printAsJSON()
            case .run(let summary): print("\(summary.id) \(summary.state.rawValue)\nnext: e2h follow \(summary.id)")
            case .group(let group):
                print("group \(group.summary.id): \(group.summary.members.text)\nnext: e2h show \(group.summary.id)")
            }
        }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-execute a run from its recorded spec and seed and compare every event with the recorded ones.",
        discussion: """
            The replay is queued as a job that a worker of the daemon executes (bounded by its --workers, cancellable \
            with `e2h cancel`); this command follows it and prints the verdict it records.
            """)

    @Argument(help: "Run id (or a unique prefix).") var run: String
    @Flag(help: "Compare the replayed events with the recorded ones (the only mode there is; kept for clarity).")
    var verify = false
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            let client = try connection.client()
            let job = try await client.post("v1/runs/\(run)/replay", body: [String: String](), as: SubmitResponse.self)
            if !json { print("replay \(job.run.id) queued; `e2h cancel \(job.run.id)` stops it") }
            try await RunFollower(client: client, run: job.run.id, quiet: true).follow()
            let report = try await Self.verdict(of: job.run.id, client)
            if json {
                try printJSON(report)
            } else if report.identical {
                print(report.summary)
            } else if let divergence = report.divergence {
                print(ProvenancePrinter.divergence(divergence).joined(separator: "\n"))
            }
            if !report.identical { throw ExitCode.failure }
        }
    }

    /// The `RunReplayed` event of a completed replay job.
    static func verdict(of job: String, _ client: DaemonClient) async throws -> ReplayReport {
        var after: Int64 = 0
        while true {
            let page = try await client.get(
                "v1/runs/\(job)/events", query: ["after": "\(after)", "limit": "1000"], as: EventPage.self)
            for event in page.events where event.type == RunReplayed.type.rawValue {
                let payload = try CanonicalJSON.encode(event.payload)
                return try CanonicalJSON.decode(RunReplayed.self, from: payload).report
            }
            guard !page.events.isEmpty else {
                throw ClientError(.failure, "replay \(job) completed without recording a verdict")
            }
            after = page.lastVersion
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run into one bundle: a tar of its events, spec, receipt, curves, annotations and blobs.",
        discussion: """
            The bundle opens with any tar (`tar tf RUN.tar`): manifest.json, spec.yaml, spec.json, receipt.json, \
            events.jsonl, annotations.jsonl, metrics.jsonl and blobs/<sha256>.safetensors (or .bin). It is streamed \
            in constant memory on both sides. A run whose hash chain does not verify is refused.
            """)

    @Argument(help: "Run id (or a unique prefix).") var run: String
    @Option(name: .shortAndLong, help: "Output file (default <run>.tar).") var output: String?
    @Flag(help: "Leave out checkpoints and sample sets: only the events and the outcomes that scores need.")
    var scoresOnly = false
    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        try await E2H.guarded {
            let downloaded = try await connection.client().download(
                "v1/runs/\(run)/export", query: scoresOnly ? ["scores-only": "true"] : [:])
            defer { try? FileManager.default.removeItem(at: downloaded) }
            let size = try Self.checkComplete(downloaded)
            let path = output ?? "\(run).tar"
            try writeUserFileAtomically(copying: downloaded.path, to: path)
            print(
                "wrote \(path) (\(size) bytes; `tar tf \(path)` lists it)\nnext: e2h import \(path) (against another daemon)"
            )
        }
    }

    /// A tar ends with two zero blocks: a download cut short (the daemon stopped mid-export) does not.
    static func checkComplete(_ file: URL) throws -> UInt64 {
        guard let handle = try? FileHandle(forReadingFrom: file) else {
            throw ClientError(.failure, "cannot read the downloaded export \(file.path)")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let tail: Data? =
            size >= 1024 ? (try? handle.seek(toOffset: size - 1024)).flatMap { try? handle.read(upToCount: 1024) } : nil
        guard let tail, tail.count == 1024, tail.allSatisfy({ $0 == 0 }) else {
            throw ClientError(
                .failure, "the export was cut short (\(size) bytes arrived); nothing was written — export again")
        }
        return size
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a run exported by `e2h export` (a bundle, or the JSON archive of an older e2h).",
        discussion: """
            Everything is checked before anything is written: the hash chains, every blob against its hash, the \
            run id, and the receipt — in full when this daemon signed it, against the events otherwise. A bundle \
            that fails any check leaves the database as it was.
            """)

    @Argument(help: "The exported file.") var file: String
    @OptionGroup var connection: ConnectionFlags
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await E2H.guarded {
            let report = try await connection.client().upload("v1/import", file: file, as: ImportReport.self)
            if json {
                try printJSON(report)
                return
            }
            print(
                "imported \(report.run.id) (\(report.run.eventCount) events, \(report.blobs) blobs"
                    + "\(report.scoresOnly ? ", scores only" : ""), \(report.metricPoints) metric points, "
                    + "\(report.annotationEvents) annotation events)")
            print(
                "receipt: \(report.receipt.rawValue.replacingOccurrences(of: "_", with: " ")) — \(report.receiptDetail)"
            )
            print("next: e2h verify \(report.run.id)")
        }
    }
}
