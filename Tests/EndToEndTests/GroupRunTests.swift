import Foundation
import Testing
import WireTypes

/// Groups on the real binaries: a seed sweep of the smoke experiment queued as one group, run, listed and shown;
/// bad sweeps refused before anything is queued.
@Suite("Groups end to end", .serialized)
struct GroupRunTests {
    /// Seeds 3..5: the smoke policy is too weak for ReST-EM on many seeds (0..2 and 6..12 fail with "found no correct
    /// easy solution to train on"), which is the pipeline's matter, not the group's.
    @Test func aThreeSeedSmokeGroupCompletesAndIsListedAndShown() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: DaemonUnderTest.fastLeases + ["--workers", "2"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let submitted = try await daemon.e2hJSON(
                GroupSubmitResponse.self, "submit", SmokeRunTests.smokeSpec, "--seeds", "3..5", "--key", "smoke-3")
            let group = submitted.group.summary.id
            #expect(submitted.created)
            #expect(submitted.group.members.map(\.settings.label) == ["seed=3", "seed=4", "seed=5"])
            for member in submitted.group.members {
                try await daemon.waitFor(member.run.id, timeout: .seconds(900), "completion") { details, _ in
                    details.state.isFinal
                }
            }
            let shown = try await daemon.e2hJSON(GroupDetails.self, "show", group)
            #expect(
                shown.members.map(\.run.state) == [.completed, .completed, .completed],
                "\(shown.members.map(\.run.errors))\n\(daemon.log.suffix(3000))")
            #expect(shown.summary.members.completed == 3)
            let text = try await daemon.e2h("show", "group:" + group)
            #expect(text.status == 0 && text.output.contains("3 (3 completed)"), "\(text.output)")
            #expect(text.output.contains("seed=5"), "\(text.output)")
            // `compare GROUP` reads the completed members as seeds, as naming the three runs does.
            let byGroup = try await daemon.e2hJSON(CompareResponse.self, "compare", group)
            #expect(Set(byGroup.runs.map(\.id)) == Set(submitted.group.members.map(\.run.id)))
            #expect(!byGroup.report.rows.isEmpty && byGroup.report.rows.allSatisfy { $0.accuracy.seeds == 3 })
            // `--setting` keeps the members with a setting (here a seed); one no member has is refused, listed.
            let one = try await daemon.e2hJSON(CompareResponse.self, "compare", group, "--setting", "seed=4")
            #expect(one.runs.map(\.id) == [submitted.group.members[1].run.id])
            let none = try await daemon.e2h("compare", group, "--setting", "seed=9")
            #expect(none.status == 2 && none.output.contains("seed=3, seed=4, seed=5"), "\(none.output)")

            let listed = try await daemon.e2hJSON(GroupList.self, "groups")
            #expect(listed.groups.map(\.id) == [group])
            #expect(listed.groups.first?.members.completed == 3)
            let table = try await daemon.e2h("groups")
            #expect(table.status == 0 && table.output.contains(group), "\(table.output)")

            // The same key again: the same group, nothing more queued.
            let again = try await daemon.e2hJSON(
                GroupSubmitResponse.self, "submit", SmokeRunTests.smokeSpec, "--seeds", "3..5", "--key", "smoke-3")
            #expect(!again.created && again.group.summary.id == group)
            #expect(try await daemon.e2hJSON(RunList.self, "runs").runs.count == 3)

            // Each run is one seed: a run named twice is refused, and a run of a spec already compared (a clone
            // without edits: the same spec and seed, so the same bits) is counted once, with a warning.
            let member = submitted.group.members[1].run.id
            let twice = try await daemon.e2h("compare", member, String(member.prefix(8)))
            #expect(twice.status == 2 && twice.output.contains("is named twice"), "\(twice.output)")
            let clone = try await daemon.e2hJSON(GroupSubmitResponse.self, "submit", "--from", member).group.members[0]
            #expect(clone.run.specHash == submitted.group.members[1].run.specHash)
            try await daemon.waitFor(clone.run.id, timeout: .seconds(900), "completion") { details, _ in
                details.state.isFinal
            }
            let counted = try await daemon.e2hJSON(
                CompareResponse.self, "compare", submitted.group.members[0].run.id, member, clone.run.id)
            #expect(counted.runs.map(\.id) == [submitted.group.members[0].run.id, member])
            #expect(counted.report.rows.allSatisfy { $0.accuracy.seeds == 2 })
            #expect(
                counted.warnings.contains {
                    $0.contains("counted once: \(clone.run.id.prefix(8)) has \(member.prefix(8))")
                },
                "\(counted.warnings)")
        }
    }

    /// `submit --from RUN`: a member of a sweep cloned without edits is its spec again (the same hash); with edits and
    /// seeds, a group of the edited spec; an unknown run or key exits 2 and queues nothing.
    @Test func aRunIsClonedWithEdits() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let sweep = try await daemon.e2hJSON(
                GroupSubmitResponse.self, "submit", SmokeRunTests.smokeSpec, "--seeds", "3..4", "--set",
                "policy.sft.learning_rate=0.003,0.001")
            let source = sweep.group.members[3]
            #expect(source.settings.label == "policy.sft.learning_rate=0.001 seed=4")

            let same = try await daemon.e2hJSON(GroupSubmitResponse.self, "submit", "--from", source.run.id)
            #expect(same.group.members.map(\.run.specHash) == [source.run.specHash])

            let edited = try await daemon.e2hJSON(
                GroupSubmitResponse.self, "submit", "--from", String(source.run.id.prefix(8)), "--set",
                "sampling.temperature=0.5", "--seeds", "0..1")
            #expect(
                edited.group.members.map(\.settings.label) == [
                    "policy.sft.learning_rate=0.001 sampling.temperature=0.5 seed=0",
                    "policy.sft.learning_rate=0.001 sampling.temperature=0.5 seed=1",
                ])
            #expect(Set(edited.group.members.map(\.run.specHash)).count == 2)
            #expect(!edited.group.members.map(\.run.specHash).contains(source.run.specHash))

            let queued = try await daemon.e2hJSON(RunList.self, "runs").runs.count
            #expect(queued == 4 + 1 + 2)
            for (arguments, message) in [
                (["--from", "ffffffff"], "no run ffffffff"),
                (["--from", source.run.id, "--set", "sampling.temprature=0.5"], "did you mean 'temperature'"),
                (["--from", source.run.id, SmokeRunTests.smokeSpec], "not both"),
            ] {
                let result = try await ChildProcess.run(
                    try Harness.binDirectory + "/e2h",
                    ["submit"] + arguments + ["--state-dir", daemon.stateDirectory])
                #expect(result.status == 2, "\(arguments): \(result.output)")
                #expect(result.output.contains(message), "\(arguments): \(result.output)")
            }
            #expect(try await daemon.e2hJSON(RunList.self, "runs").runs.count == queued)
        }
    }

    /// Tags on the real binaries: `e2h tag` and `e2h note` annotate, `show` prints them, `runs --where` (evaluated by
    /// PostgreSQL) finds the tagged run; `select` refuses a test row with the reason.
    @Test func aTaggedRunIsFoundByWhere() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let group = try await daemon.e2hJSON(
                GroupSubmitResponse.self, "submit", SmokeRunTests.smokeSpec, "--seeds", "3..5")
            let tagged = group.group.members[1].run.id
            #expect(try await daemon.e2h("tag", tagged, "+baseline", "+draft").status == 0)
            let tag = try await daemon.e2h("tag", tagged, "-draft")
            #expect(tag.status == 0 && tag.output.contains("tags:       baseline"), "\(tag.output)")
            #expect(try await daemon.e2h("note", tagged, "the one to beat").status == 0)
            let shown = try await daemon.e2h("show", tagged)
            #expect(shown.output.contains("the one to beat"), "\(shown.output)")

            let found = try await daemon.e2hJSON(
                RunList.self, "runs", "--where", "tag:baseline and status = queued and spec.seed >= 4")
            #expect(found.runs.map(\.id) == [tagged])
            #expect(found.runs.first?.tags == ["baseline"])
            let malformed = try await daemon.e2h("runs", "--where", "tag:baseline and")
            #expect(malformed.status == 2 && malformed.output.contains("column 17"), "\(malformed.output)")
            // Hostile conditions get a reason, and e2hd lives on: 10,000 nested parentheses once overflowed its
            // stack; an 8,000-term condition is over what its HTTP parser reads (it answered a bare 400).
            let deep = String(repeating: "(", count: 10_000) + "tag:x" + String(repeating: ")", count: 10_000)
            let nested = try await daemon.e2h("runs", "--where", deep)
            #expect(nested.status == 2 && nested.output.contains("more than 64 parentheses"), "\(nested.output)")
            let long = try await daemon.e2h(
                "runs", "--where", Array(repeating: "tag:x", count: 8000).joined(separator: " or "))
            #expect(long.status == 2 && long.output.contains("too long for e2hd"), "\(long.output)")
            #expect(
                try await daemon.e2hJSON(RunList.self, "runs", "--where", "tag:baseline").runs.map(\.id) == [tagged])

            let refused = try await daemon.e2h(
                "select", group.group.summary.id, "--max", "hard:weighted/verifier/prod@4")
            #expect(refused.status == 2 && refused.output.contains("test split"), "\(refused.output)")
        }
    }

    /// `e2h validate` with submit's sweep options checks the group offline (no daemon) and lists its members.
    @Test func validateChecksAGroupWithoutADaemon() async throws {
        let e2h = try Harness.binDirectory + "/e2h"
        let valid = try await ChildProcess.run(
            e2h,
            ["validate", SmokeRunTests.smokeSpec, "--seeds", "4..5", "--set", "policy.sft.learning_rate=1e-3,3e-3"])
        #expect(valid.status == 0, "\(valid.output)")
        #expect(valid.output.contains("valid group of 4 runs"), "\(valid.output)")
        #expect(valid.output.contains("policy.sft.learning_rate=3e-3 seed=5: spec hash"), "\(valid.output)")
        for (arguments, message) in [
            (["--set", "policy.sft.learning_rat=1e-3"], "did you mean 'learning_rate'"),
            (["--seeds", "0..18446744073709551615"], "more than 1000 runs"),
            (["--seeds", "0..1", "--max-runs", "0"], "--max-runs 0 is out of range"),
        ] {
            let refused = try await ChildProcess.run(e2h, ["validate", SmokeRunTests.smokeSpec] + arguments)
            #expect(refused.status == 2 && refused.output.contains(message), "\(arguments): \(refused.output)")
        }
    }

    @Test(arguments: [
        (["--set", "policy.sft.learning_rat=1e-3"], "did you mean 'learning_rate'"),
        (["--seeds", "3..1"], "the seed range 3..1 is empty"),
        // 2^64 seeds: refused from their count; listed first, they took the daemon's memory.
        (["--seeds", "0..18446744073709551615"], "more than 1000 runs"),
        (["--set", "policy.sft.steps=1", "--set", "policy.sft.steps=2"], "is given twice"),
        (["--seeds", "0..9", "--set", "policy.sft.learning_rate=1e-3,3e-3", "--max-runs", "5"], "--max-runs"),
    ])
    func aBadSweepExitsTwoAndQueuesNothing(arguments: [String], message: String) async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let result = try await ChildProcess.run(
                try Harness.binDirectory + "/e2h",
                ["submit", SmokeRunTests.smokeSpec] + arguments + ["--state-dir", daemon.stateDirectory])
            #expect(result.status == 2, "\(result.output)")
            #expect(result.output.contains(message), "\(result.output)")
            #expect(try await daemon.e2hJSON(RunList.self, "runs").runs.isEmpty)
            #expect(try await daemon.e2hJSON(GroupList.self, "groups").groups.isEmpty)
        }
    }
}
