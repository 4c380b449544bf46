import Dashboard
import EventStore
import Foundation
import Testing
import WireTypes

@testable import Daemon

/// Tags and notes in annotation streams of their own, and `runs --where` evaluated by PostgreSQL.
@Suite("Annotations and run queries on PostgreSQL")
struct AnnotationAndQueryTests {
    func ids(_ queue: Queue, _ condition: String) async throws -> [String] {
        try await RunCatalog(queue: queue).list(state: nil, limit: 100, query: try RunQuery(parsing: condition))
            .map(\.id)
    }

    @Test func tagsAndNotesAreEventsApartFromTheRunsRecord() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await queue.submit(SubmitRequest(yaml: "name: tiny\nseed: 1\n", file: "t.yaml")).run.id
        let annotations = RunAnnotations(queue: queue)
        _ = try await annotations.annotate(.run(run), AnnotateRequest(add: ["baseline", "draft"]))
        _ = try await annotations.annotate(.run(run), AnnotateRequest(remove: ["draft"], note: "lr too high?"))
        let read = try await annotations.annotations(of: .run(run))
        #expect(read.tags == ["baseline"])
        #expect(read.notes.map(\.text) == ["lr too high?"])
        #expect(try await queue.details(run).tags == ["baseline"])
        // The run's own stream is untouched: verify and replay see only its record.
        #expect(try await queue.store.readWhole(stream: DaemonEvent.stream(run)).map(\.type) == ["RunSubmitted"])
        #expect(try await queue.store.verify(stream: AnnotationTarget.run(run).stream) == .intact(events: 3))

        await #expect(throws: DaemonError.self) {
            _ = try await annotations.annotate(.run(run), AnnotateRequest(add: ["Not A Tag"]))
        }
        await #expect(throws: DaemonError.self) { _ = try await annotations.annotate(.run(run), AnnotateRequest()) }
    }

    /// Notes reach other people's terminals through `e2h show`, so an escape sequence in one is refused.
    @Test func aNoteIsPlainText() throws {
        #expect(try AnnotateRequest(note: "lr too high?\n\tsee run 2").validated().note == "lr too high?\n\tsee run 2")
        for (note, code) in [
            ("\u{1B}[2Jcleared", "U+001B"), ("bell\u{07}", "U+0007"), ("\u{9B}31m", "U+009B"), ("a\r\nb", "U+000D"),
        ] {
            let error = #expect(throws: AnnotationError.self) { try AnnotateRequest(note: note).validated() }
            #expect(error?.message.contains("the control character \(code)") == true, "\(error?.message ?? "accepted")")
        }
    }

    /// The runs page's filters narrow the list before its limit: hostile testing found a tag, a group or a text
    /// that only older runs carry answered "No runs match" once 500 newer runs existed.
    @Test func theDashboardsFiltersAreEvaluatedBeforeTheLimit() async throws {
        let queue = try await TestDatabase.queue()
        let old = try await queue.submit(SubmitRequest(yaml: "name: Oldest\nseed: 1\n", file: "t.yaml")).run.id
        _ = try await RunAnnotations(queue: queue).annotate(.run(old), AnnotateRequest(add: ["old"]))
        let group = try await GroupSubmission(queue: queue).submit(
            GroupSubmitRequest(yaml: "name: newer\nseed: 7\n", file: "t.yaml", seeds: "0..2"))
        let newer = group.group.members.map(\.run.id)
        let catalog = RunCatalog(queue: queue)
        func listed(_ filter: RunsPage.Filter) async throws -> [String] {
            try await catalog.list(filter).map(\.id)
        }
        #expect(try await catalog.list(state: nil, limit: 3).map(\.id).contains(old) == false)
        #expect(try await catalog.list(state: nil, limit: 1, tag: "old").map(\.id) == [old])
        #expect(try await catalog.list(state: nil, limit: 1, text: "OLDEST").map(\.id) == [old])
        #expect(try await catalog.list(state: nil, limit: 1, text: String(old.prefix(8))).map(\.id) == [old])
        #expect(try await listed(RunsPage.Filter(tag: "ol")).isEmpty, "a tag matches whole")
        // A group by the start of its id, as `e2h runs` shows it, or whole.
        let groupID = group.group.summary.id
        #expect(try await listed(RunsPage.Filter(group: String(groupID.prefix(8)))).sorted() == newer.sorted())
        #expect(try await listed(RunsPage.Filter(group: groupID.uppercased())).count == 3)
        #expect(try await listed(RunsPage.Filter(group: "ffffffff")).isEmpty)
        #expect(try await listed(RunsPage.Filter(state: .queued, tag: "old", text: "oldest")) == [old])
        #expect(try await listed(RunsPage.Filter(text: "")).count == 4, "an empty box filters nothing")
        // Characters LIKE would read as patterns are text.
        #expect(try await listed(RunsPage.Filter(group: "%")).isEmpty)
        #expect(try await listed(RunsPage.Filter(text: "_")).isEmpty)
    }

    @Test func whereIsEvaluatedOnTheRecordedSpecTagsAndState() async throws {
        let queue = try await TestDatabase.queue()
        let group = try await GroupSubmission(queue: queue).submit(
            GroupSubmitRequest(
                yaml: "name: tiny\nseed: 7\n", file: "t.yaml", seeds: "0..1",
                overrides: ["policy.sft.steps=100,400"]))
        let runs = group.group.members.map(\.run.id)  // steps 100 (seeds 0, 1), then 400 (seeds 0, 1)
        _ = try await RunAnnotations(queue: queue).annotate(.run(runs[3]), AnnotateRequest(add: ["baseline"]))
        _ = try await queue.cancel(runs[0])

        #expect(try await ids(queue, "spec.policy.sft.steps >= 400").sorted() == [runs[2], runs[3]].sorted())
        #expect(try await ids(queue, "tag:baseline and spec.policy.sft.steps >= 400") == [runs[3]])
        #expect(try await ids(queue, "status in (cancelled, failed)") == [runs[0]])
        // A replay job has its original's name and spec: `kind` tells it apart.
        let replay = try await RunSubmission(queue: queue).submitReplay(of: runs[0]).run.id
        #expect(try await ids(queue, "kind = replay") == [replay])
        #expect(try await ids(queue, "kind != replay and spec.seed = 0").count == 2)
        await #expect(throws: DaemonError.self) { _ = try await ids(queue, "kind = job") }
        #expect(try await ids(queue, "spec.seed = 1 and spec.policy.sft.steps = 100") == [runs[1]])
        #expect(try await ids(queue, "tag != baseline").count == 4)
        #expect(try await ids(queue, "spec.name = tiny or tag:baseline").count == 5)
        // A text comparison with a number field matches nothing rather than failing the query.
        #expect(try await ids(queue, "spec.policy.sft.steps = many").isEmpty)
        // So do paths that recorded specs have, when no run matches.
        #expect(try await ids(queue, "spec.policy.sft.steps = 5 or spec.seed = 99").isEmpty)
        // A path no recorded spec has is named, with the nearest key where the path leaves every spec.
        for (condition, message) in [
            (
                "spec.policy.sft.stepz >= 400",
                "no recorded spec has spec.policy.sft.stepz — did you mean 'spec.policy.sft.steps'?"
            ),
            ("spec.seed = 1 and spec.polcy.sft.steps = 100", "did you mean 'spec.policy'?"),
            ("spec.policy.sft.zzzzzzzzzz = 1", "spec.policy.sft has "),
            ("spec.evaluators[0].kindd = orm", "no recorded spec has spec.evaluators[0].kindd"),
        ] {
            let error = await #expect(throws: DaemonError.self, "\(condition)") { _ = try await ids(queue, condition) }
            #expect(error?.message.contains(message) == true, "\(condition): \(error?.message ?? "accepted")")
        }

        for (condition, message) in [
            ("stauts = queued", "did you mean 'status'"),
            ("status = done", "unknown status 'done'"),
            ("spec.policy.sft.steps >=", "expected a value"),
            ("tag:Bad", "is not a tag"),
            ("spec.policy.sft.steps >=", "(fields: status, name, tag, kind, spec.<path>)"),
        ] {
            do {
                _ = try RunQuery(parsing: condition)
                Issue.record("\(condition) was accepted")
            } catch let error as DaemonError {
                #expect(error.message.contains(message), "\(condition): \(error.message)")
            }
        }
        // An unknown name far from every field: the parser lists the fields, once.
        let unknown = #expect(throws: DaemonError.self) { try RunQuery(parsing: "zzzzzzzz = 1") }
        #expect(
            unknown?.message
                == "--where column 1: unknown field 'zzzzzzzz' — fields: status, name, tag, kind, spec.<path>",
            "\(unknown?.message ?? "accepted")")
    }

    /// `submit --from`: the source's recorded YAML with its own sweep values, the edits on top, recorded with it.
    @Test func aCloneRecordsWhereItCameFrom() async throws {
        let queue = try await TestDatabase.queue()
        let sweep = try await GroupSubmission(queue: queue).submit(
            GroupSubmitRequest(
                yaml: "name: tiny\nseed: 7\n", file: "t.yaml", seeds: "0..1", overrides: ["policy.sft.steps=100,400"]))
        let source = sweep.group.members[3]
        let clone = try await GroupSubmission(queue: queue).clone(
            source.run.id, CloneRequest(overrides: ["policy.sft.learning_rate=0.01"]))
        #expect(
            clone.group.members.map(\.settings.label) == [
                "policy.sft.steps=400 seed=1 policy.sft.learning_rate=0.01"
            ])
        let record = try await GroupCatalog(queue: queue).record(of: clone.group.summary.id)
        #expect(record.from == source.run.id)
        #expect(record.overrides == ["policy.sft.steps=400", "seed=1", "policy.sft.learning_rate=0.01"])
        let same = try await GroupSubmission(queue: queue).clone(source.run.id, CloneRequest())
        #expect(same.group.members.map(\.run.specHash) == [source.run.specHash])
    }

    /// `select --max validation:sft/pass@1` reads what SFT records: the selected step (its outputs) and that
    /// checkpoint's easy-validation pass@1. A group of seeds is one setting, chosen whole (its mean over the members
    /// that recorded the figure): no seed is picked. Test rows are refused.
    @Test func selectChoosesByAValidationFigureOnly() async throws {
        let queue = try await TestDatabase.queue()
        let group = try await GroupSubmission(queue: queue).submit(
            GroupSubmitRequest(yaml: "name: tiny\nseed: 7\n", file: "t.yaml", seeds: "0..3"))
        let members = group.group.members.map(\.run.id)
        for (run, selected) in zip(members.prefix(3), [0.5, 0.75, 0.75]) {
            let outputs = try await queue.store.putBlob(Data(#"{"checkpoint":"c20","step":20}"#.utf8))
            func checkpoint(_ step: Int, _ accuracy: Double) -> NewEvent {
                NewEvent(
                    type: "CheckpointSaved",
                    payload: Data(
                        (#"{"blob":"c\#(step)","easy_validation_accuracy":\#(accuracy),"model":"policy","#
                            + #""reason":"interval","stage":"sft","step":\#(step)}"#).utf8))
            }
            _ = try await queue.store.append(
                stream: DaemonEvent.stream(run), expectedVersion: .any,
                events: [
                    // A better checkpoint SFT did not select: its figure is not the run's.
                    checkpoint(10, 0.9), checkpoint(20, selected),
                    NewEvent(type: "StageCompleted", payload: Data(#"{"outputs":"\#(outputs)","stage":"sft"}"#.utf8)),
                ])
        }
        let selection = try await GroupSelection(queue: queue).select(
            group.group.summary.id, maximizing: "validation:sft/pass@1")
        #expect(selection.chosen == .init(settings: [], runs: members, mean: 2.0 / 3, recorded: 3))
        #expect(selection.settings == [selection.chosen])
        #expect(selection.candidates.map(\.value) == [0.5, 0.75, 0.75, nil])
        // A member that was cancelled (or failed) does not count, whatever it recorded; when none is left, the
        // answer says how to bring them back.
        _ = try await queue.cancel(members[1])
        let withoutCancelled = try await GroupSelection(queue: queue).select(
            group.group.summary.id, maximizing: "validation:sft/pass@1")
        #expect(withoutCancelled.candidates.map(\.value) == [0.5, nil, 0.75, nil])
        #expect(withoutCancelled.chosen.mean == 0.625 && withoutCancelled.chosen.recorded == 2)
        for run in [members[0], members[2], members[3]] { _ = try await queue.cancel(run) }
        let none = await #expect(throws: DaemonError.self) {
            _ = try await GroupSelection(queue: queue).select(
                group.group.summary.id, maximizing: "validation:sft/pass@1")
        }
        #expect(none?.message.contains("every member of group") == true && none?.message.contains("e2h resume") == true)

        do {
            _ = try await GroupSelection(queue: queue).select(
                group.group.summary.id, maximizing: "hard:weighted/verifier/prod@64")
            Issue.record("a test row chose a run")
        } catch let error as DaemonError {
            #expect(error.message.contains("score on the test split"), "\(error.message)")
        }
    }

    /// `select --max validation:ppo/pass@1` reads a PPO variant's checkpoints chosen on validation: the best figure
    /// its interval checkpoints recorded, once the RL stage completed (a member still training has none yet). Two
    /// learning rates over two seeds: the rate whose mean on the seeds both recorded is larger wins, though the other
    /// has the best seed.
    @Test func selectChoosesPPOSettingsByTheirValidationFigure() async throws {
        let queue = try await TestDatabase.queue()
        let group = try await GroupSubmission(queue: queue).submit(
            GroupSubmitRequest(
                yaml: "name: tiny\nseed: 7\nrl: {ppo: {checkpoint: best_validation}}\n", file: "t.yaml", seeds: "0..1",
                overrides: ["rl.ppo.learning_rate=1e-5,3e-5"]))
        // By learning rate and seed: 1e-5 has the best seed (0.9, still training) but 3e-5 the larger mean.
        let records: [String: ([Double], Bool)] = [
            "1e-5 0": ([0.4, 0.6], true), "1e-5 1": ([0.9], false), "3e-5 0": ([0.7, 0.5], true),
            "3e-5 1": ([0.55], true),
        ]
        // The rate as it is read (however the member's setting spells it), then the seed.
        let rate = { (settings: [GroupSetting]) in
            Double(settings.first { $0.path == "rl.ppo.learning_rate" }!.value)! < 2e-5 ? "1e-5" : "3e-5"
        }
        let key = { (member: GroupMemberDetails) in
            "\(rate(member.settings)) \(member.settings.first { $0.path == "seed" }!.value)"
        }
        let byKey = Dictionary(uniqueKeysWithValues: group.group.members.map { (key($0), $0.run.id) })
        #expect(Set(byKey.keys) == Set(records.keys))
        for (member, (figures, completed)) in records {
            let run = byKey[member]!
            var events = figures.enumerated().map { index, accuracy in
                NewEvent(
                    type: "CheckpointSaved",
                    payload: Data(
                        (#"{"blob":"p\#(index)","easy_validation_accuracy":\#(accuracy),"model":"ppo","#
                            + #""reason":"interval","stage":"rl","step":\#(4 * (index + 1))}"#).utf8))
            }
            if completed {
                events.append(NewEvent(type: "StageCompleted", payload: Data(#"{"outputs":"o","stage":"rl"}"#.utf8)))
            }
            _ = try await queue.store.append(stream: DaemonEvent.stream(run), expectedVersion: .any, events: events)
        }
        let selection = try await GroupSelection(queue: queue).select(
            group.group.summary.id, maximizing: "validation:ppo/pass@1")
        #expect(selection.row == "validation:ppo/pass@1")
        #expect(selection.candidates.count == 4)
        #expect(selection.settings.allSatisfy { $0.settings.count == 1 })
        let means = Dictionary(
            uniqueKeysWithValues: selection.settings.map { (rate($0.settings), ($0.mean, $0.recorded)) })
        #expect(means["1e-5"]?.0 == 0.6 && means["1e-5"]?.1 == 1)
        // Compared on the seed both rates have recorded (seed 0): 3e-5's seed 1 is left out of its mean.
        #expect(means["3e-5"]?.0 == 0.7 && means["3e-5"]?.1 == 1)
        #expect(Set(selection.chosen.runs) == [byKey["3e-5 0"]!, byKey["3e-5 1"]!])
        // A policy no member trains with validation checkpoints is the request's mistake, not a wait for training.
        do {
            _ = try await GroupSelection(queue: queue).select(
                group.group.summary.id, maximizing: "validation:ppo_x/pass@1")
            Issue.record("a row no member records was waited for")
        } catch let error as DaemonError {
            #expect(error.code == .badRequest && error.message.contains("record no validation:ppo_x/pass@1"))
        }
    }
}
