import Foundation
import Testing
import WireTypes

@testable import Dashboard

private let csrf = String(repeating: "7", count: 64)

private func runPage(
    state: RunState = .completed, results: RunPage.Results? = nil, after: Int64 = 0, pageSize: Int = 2,
    chain: VerifyReport? = nil, provenance: [AttemptProvenance] = [], replayOf: String? = nil,
    replayVerdict: String? = nil, annotations: Annotations = Annotations(), leaseOwner: String? = nil,
    leaseExpiresAt: Date? = nil
) -> String {
    let shown = Fixtures.events.filter { $0.version > after }.prefix(pageSize)
    var run = Fixtures.run(state: state)
    run.replayOf = replayOf
    run.leaseOwner = leaseOwner
    run.leaseExpiresAt = leaseExpiresAt
    return RunPage(
        run: run, timeline: StageTimeline(events: Fixtures.events), metrics: Fixtures.metrics,
        evaluators: [
            RunPage.Evaluator(
                name: "orm", kind: "orm", labels: "easy", stepEasy: nil, stepHard: nil, outcomeEasy: 0.8126,
                outcomeHard: 0.6)
        ],
        results: results ?? .compared(grid: Fixtures.grid, headline: Fixtures.headline),
        specYAML: "name: \(Fixtures.hostile)\nseed: 0\n",
        eventLog: RunPage.EventLog(events: Array(shown), after: after, pageSize: pageSize, total: 4),
        chain: chain ?? VerifyReport(run: Fixtures.runID, intact: true, events: 4, brokenAtVersion: nil, reason: nil),
        provenance: provenance, csrfToken: csrf, now: Fixtures.start + 100, replayVerdict: replayVerdict,
        annotations: annotations
    ).page().render()
}

/// A replay job's page gives its verdict and offers no replay of itself (the daemon refuses one); any run's page
/// shows its tags and notes, as `e2h show` does (hostile testing found none of these on the page).
@Test func theRunPageShowsAReplaysVerdictAndARunsTagsAndNotes() throws {
    let original = "0123abcd-0000-4000-8000-000000000000"
    let replay = try XHTMLDocument(
        runPage(replayOf: original, replayVerdict: "identical (650 events)"))
    #expect(replay.all("dd").contains { $0.attributes["class"] == "verdict" && $0.text == "identical (650 events)" })
    #expect(!replay.all("form").contains { $0.attributes["action"]?.hasSuffix("/replay") == true })
    let plain = try XHTMLDocument(
        runPage(
            annotations: Annotations(
                tags: ["baseline", "<b>"], notes: [.init(text: "lr too high? </li>", recordedAt: Fixtures.start)])))
    #expect(plain.all("form").contains { $0.attributes["action"]?.hasSuffix("/replay") == true })
    #expect(plain.all("dd").contains { $0.attributes["class"] == "tags" && $0.text == "baseline, <b>" })
    #expect(plain.all("li").contains { $0.text.hasSuffix(" lr too high? </li>") })
}

/// A run whose daemon died kept showing its last progress as if it computed: a running run's page and `e2h show`
/// say when its worker was last heard from and what happens when its lease ends (or ended).
@Test func aRunningRunsPageSaysWhenItsWorkerWasLastHeardFrom() throws {
    let ended = try XHTMLDocument(
        runPage(state: .running, leaseOwner: Fixtures.hostile, leaseExpiresAt: Fixtures.start + 80))
    #expect(
        ended.all("dd").first { $0.attributes["class"] == "lease" }?.text
            == "\(Fixtures.hostile), last heard from 5s ago; the lease ended 20s ago, so this worker is gone or cut "
            + "off: a daemon's next sweep takes the run over")
    let live = LeaseStanding(owner: "host:7", lastHeard: Fixtures.start, expiresAt: Fixtures.start + 90)
    #expect(
        live.text(now: Fixtures.start + 4)
            == "host:7, last heard from 4s ago; the lease ends in 1m26s, and a daemon takes the run over then if this "
            + "worker has not renewed it")
    #expect(
        LeaseStanding(owner: "host:7", lastHeard: Fixtures.start, expiresAt: nil).text(now: Fixtures.start + 4)
            == "host:7, last heard from 4s ago")
    let finished = try XHTMLDocument(runPage(state: .completed, leaseOwner: "host:7"))
    #expect(!finished.all("dd").contains { $0.attributes["class"] == "lease" })
}

@Test func theRunPageShowsUserTextAsTextAndDrawsBothFigures() throws {
    let document = try XHTMLDocument(runPage())
    #expect(document.all("h1").first?.text == Fixtures.hostile)
    #expect(document.all("pre").first?.text == "name: \(Fixtures.hostile)\nseed: 0\n")
    #expect(document.all("script").isEmpty)
    #expect(document.all("svg").count == 2)
    #expect(document.all("td").contains { $0.text.contains(Fixtures.hostile) })
    #expect(document.all("code").contains { $0.text == String(repeating: "ab", count: 32) })
    #expect(document.all("p").contains { $0.text == "Hash chain intact over 4 events." })
    let evaluator = document.all("tr").first { $0.text.hasPrefix("ormorm") }
    #expect(evaluator?.text == "ormormeasy––0.8130.600")
}

@Test func theRunPageShowsEachAttemptsProvenanceInAColumn() throws {
    let machine = Provenance(
        version: "0.1.0", commit: "0123456789abcdef0123456789abcdef01234567", swift: "Swift version 6.3.1",
        os: "Ubuntu 24.04 LTS", kernel: "Linux 6.8.0 x86_64", cpu: Fixtures.hostile, cpuFeatures: ["fma", "avx2"],
        threads: 2, postgres: "16.4")
    var wider = machine
    wider.cpuFeatures = ["fma", "avx2", "avx512f"]
    let attempts = [
        AttemptProvenance(attempt: 1, worker: "old", provenance: nil),
        AttemptProvenance(attempt: 2, worker: "a", provenance: machine),
        AttemptProvenance(attempt: 3, worker: "b", provenance: wider),
    ]
    let document = try XHTMLDocument(runPage(provenance: attempts))
    let rows = document.all("tr").map(\.text)
    #expect(rows.contains("attempt 1 (old)attempt 2 (a)attempt 3 (b)"))
    #expect(rows.contains("e2hnot recorded0.1.0 (\(machine.commit))0.1.0 (\(machine.commit))"))
    #expect(rows.contains("featuresnot recordedfma avx2fma avx2 avx512f"))
    // The CPU's name is text, like every other recorded string.
    #expect(rows.contains("cpunot recorded\(Fixtures.hostile)\(Fixtures.hostile)"))
    let none = try XHTMLDocument(runPage())
    #expect(none.all("p").contains { $0.text == "No attempt yet." })
}

@Test func actionsAreFormsCarryingTheSessionsToken() throws {
    let completed = try XHTMLDocument(runPage(state: .completed))
    #expect(completed.all("form").compactMap { $0.attributes["action"] } == ["/runs/\(Fixtures.runID)/replay"])
    #expect(completed.all("form").allSatisfy { $0.attributes["method"] == "post" })
    let running = try XHTMLDocument(runPage(state: .running, results: .unavailable(reason: "not yet")))
    #expect(running.all("form").compactMap { $0.attributes["action"] } == ["/runs/\(Fixtures.runID)/cancel"])
    let hidden = running.all("input").filter { $0.attributes["type"] == "hidden" }
    #expect(hidden.map { $0.attributes["name"] } == [ActionForm.tokenField])
    #expect(hidden.map { $0.attributes["value"] } == [csrf])
    #expect(running.all("svg").count == 1)
    // A live run's page follows it: the script by URL, the stream's URL from the last event shown.
    #expect(running.all("script").map { $0.attributes["src"] } == [LiveScript.path])
    #expect(
        running.all("section").first { $0.attributes["id"] == "live" }?.attributes["data-source"]
            == "/runs/\(Fixtures.runID)/live?after=4")
    #expect(completed.all("section").isEmpty && completed.all("script").isEmpty)
    #expect(running.all("p").contains { $0.text == "not yet" })
}

@Test func theEventLogIsPagedAndSaysWhenTheChainBreaks() throws {
    let first = try XHTMLDocument(runPage())
    #expect(
        first.all("tr").filter { $0.text.hasPrefix("1RunSubmitted") || $0.text.hasPrefix("2StageStarted") }.count == 2)
    #expect(!first.all("tr").contains { $0.text.hasPrefix("3StageCompleted") })
    #expect(first.all("a").compactMap { $0.attributes["rel"] } == ["next"])
    #expect(
        first.all("a").first { $0.attributes["rel"] == "next" }?.attributes["href"]
            == "/runs/\(Fixtures.runID)?after=2#events")
    let second = try XHTMLDocument(
        runPage(
            after: 2,
            chain: VerifyReport(
                run: Fixtures.runID, intact: false, events: 0, brokenAtVersion: 3, reason: "hash mismatch")))
    #expect(second.all("a").compactMap { $0.attributes["rel"] } == ["prev"])
    #expect(second.all("a").first { $0.attributes["rel"] == "prev" }?.text == "← older events")
    #expect(second.all("p").contains { $0.text == "Events 3 to 4 of 4." })
    #expect(second.all("p").contains { $0.text == "Hash chain broken at event 3: hash mismatch." })
    // Past the end: no events, said so, and the way back leads to the last page.
    let beyond = try XHTMLDocument(runPage(after: 99))
    #expect(beyond.all("p").contains { $0.text == "No events after 99 (the run has 4)." })
    #expect(
        beyond.all("a").first { $0.attributes["rel"] == "prev" }?.attributes["href"]
            == "/runs/\(Fixtures.runID)?after=2#events")
}

/// The daemon reads the runs that pass the filter (`AnnotationAndQueryTests`); the page lists them, keeps the filter in
/// its form, and says when the limit cut the list short.
@Test func theRunsPageLinksEveryRunAndSaysWhenTheLimitCutItShort() throws {
    let runs = [Fixtures.run(), Fixtures.run(state: .failed, name: "other")]
    let all = try XHTMLDocument(RunsPage(runs: runs, filter: .init(), now: Fixtures.start).page().render())
    #expect(all.all("tr").filter { $0.attributes["data-run"] != nil }.count == 2)
    #expect(all.all("td").contains { $0.text == Fixtures.hostile })
    #expect(!all.all("p").contains { $0.text.hasPrefix("The newest") })
    let failed = try XHTMLDocument(
        RunsPage(runs: [runs[1]], filter: .init(state: .failed), now: Fixtures.start).page().render())
    #expect(failed.all("option").first { $0.attributes["selected"] != nil }?.text == "failed")
    let many = Array(repeating: runs[1], count: RunsPage.limit)
    let cut = try XHTMLDocument(RunsPage(runs: many, filter: .init(), now: Fixtures.start).page().render())
    #expect(
        cut.all("p").contains { $0.text == "The newest 500 runs that pass the filter; narrow it to find older ones." })
    let none = try XHTMLDocument(RunsPage(runs: [], filter: .init(text: "x"), now: Fixtures.start).page().render())
    #expect(none.all("p").contains { $0.text.hasPrefix("No runs match.") })
}

@Test func theRunsPageShowsEachRunsTagsAndKeepsItsFilter() throws {
    var tagged = Fixtures.run(name: "tagged")
    tagged.tags = ["baseline", "<b>"]
    let runs = [tagged]
    let page = try XHTMLDocument(
        RunsPage(runs: runs, filter: .init(tag: "<b>"), now: Fixtures.start).page().render())
    #expect(page.all("td").filter { $0.attributes["class"] == "name" }.map(\.text) == ["tagged"])
    #expect(page.all("td").filter { $0.attributes["class"] == "tags" }.map(\.text) == ["baseline, <b>"])
    #expect(page.all("input").first { $0.attributes["name"] == "tag" }?.attributes["value"] == "<b>")
}

@Test func theSignInPageShowsNoData() throws {
    let document = try XHTMLDocument(NoticePage.signInRequired().render())
    #expect(document.all("table").isEmpty)
    #expect(document.all("svg").isEmpty)
    #expect(document.all("nav").first?.text.trimmingCharacters(in: .whitespacesAndNewlines) == "")
}

@Test func theComparePageOverlaysRunsAndListsWhatDiffers() throws {
    var second = Fixtures.run(name: "seed 2")
    second.id = "ffff0000-0000-4000-8000-000000000000"
    var secondMetrics = Fixtures.metrics
    secondMetrics.run = second.id
    let response = CompareResponse(
        runs: [Fixtures.run(), second], report: Fixtures.headline,
        specDifferences: [SpecDifference(path: "seed", values: ["1", "2"])], warnings: [Fixtures.hostile])
    let document = try XHTMLDocument(
        ComparePage(
            title: "Compare", comparison: response, grid: Fixtures.grid, metrics: [Fixtures.metrics, secondMetrics]
        )
        .page().render())
    #expect(document.all("svg").count == 2)
    #expect(document.all("li").contains { $0.text == Fixtures.hostile })
    #expect(document.all("td").map(\.text).contains("seed"))
    #expect(document.all("a").filter { $0.attributes["href"]?.hasPrefix("/runs/") == true }.count == 2)
}

@Test func theRunsPageShowsACompletedRunsHeadlineAndNothingForOthers() throws {
    var completed = Fixtures.run(name: "done")
    completed.headline = RunHeadline(
        row: "sft/majority@64",
        accuracy: IntervalEstimate(
            mean: 0.17, lower: 0.1274, upper: 0.2126, method: .problemBootstrap, seeds: 1, sd: nil, problems: 200),
        claims: ClaimTally(holds: 3, notShown: 11, reversed: 0, familyHolds: 1))
    var withoutClaims = Fixtures.run(name: "plain")
    withoutClaims.headline = RunHeadline(
        row: "majority@4",
        accuracy: IntervalEstimate(
            mean: 0.5, lower: 0.25, upper: 0.75, method: .problemBootstrap, seeds: 1, sd: nil, problems: 12),
        claims: nil)
    let running = Fixtures.run(state: .running, name: "live")
    let document = try XHTMLDocument(
        RunsPage(runs: [completed, withoutClaims, running], filter: .init(), now: Fixtures.start).page().render())
    #expect(document.all("th").map(\.text).contains("hard @N"))
    let cells = document.all("td").filter { $0.attributes["class"] == "headline" }
    #expect(
        cells.map(\.text) == [
            "17.0 % [12.7, 21.3] sft/majority@64claims 3/14 hold (1 family-wise)", "50.0 % [25.0, 75.0] majority@4", "",
        ])
    #expect(cells[0].attributes["title"] == "sft/majority@64 on hard levels")
    #expect(
        document.all("small").filter { $0.attributes["class"] == "row" }.map(\.text) == [
            "sft/majority@64", "majority@4",
        ])
}

@Test func theRunsPageFollowsItsTableWithItsFilter() throws {
    let filter = RunsPage.Filter(state: .running, group: "a b", tag: "<b>", text: "x&y")
    let document = try XHTMLDocument(RunsPage(runs: [], filter: filter, now: Fixtures.start).page().render())
    let live = try #require(document.all("div").first { $0.attributes["id"] == "runs-live" })
    #expect(live.attributes["data-source"] == "/live?state=running&group=a%20b&tag=%3Cb%3E&q=x%26y")
    #expect(document.all("script").map { $0.attributes["src"] } == [LiveScript.path])
    #expect(live.text.contains("No runs match"))
    #expect(RunsPage.Filter().query == "")
    #expect(RunsPage.Filter(text: "").query == "", "an empty field filters nothing and is left out")
}

/// A group's page lists every member with its state and says which members its figures leave out; one none of
/// whose members has completed is a page of its members, not an error (it was a 409 saying a failed group would
/// complete).
@Test func aGroupsPageListsEveryMemberAndWhatItLeavesOut() throws {
    func member(_ state: RunState, seed: Int) -> GroupMemberDetails {
        var run = Fixtures.run(state: state, name: "g")
        run.id = "0000000\(seed)-0000-4000-8000-000000000000"
        return GroupMemberDetails(settings: [GroupSetting(path: "seed", value: "\(seed)")], run: run)
    }
    let members = [member(.completed, seed: 0), member(.failed, seed: 1), member(.running, seed: 2)]
    let group = GroupDetails(
        summary: GroupSummary(
            id: "abcdef01-0000-4000-8000-000000000000", name: "g", submittedAt: Fixtures.start,
            members: GroupStateCounts(states: members.map(\.run.state))),
        members: members)
    let compared = try XHTMLDocument(
        ComparePage(
            title: "Group g",
            comparison: CompareResponse(
                runs: [members[0].run], report: Fixtures.headline, specDifferences: [], warnings: []),
            grid: Fixtures.grid, metrics: [Fixtures.metrics], group: group
        ).page().render())
    #expect(
        compared.all("li").map(\.text) == [
            "00000000 seed=0 completed", "00000001 seed=1 failed", "00000002 seed=2 running",
        ])
    #expect(
        compared.all("p").contains {
            $0.text == "The figures and tables are of the 1 completed member; the other 2 are left out until they "
                + "complete; failed and cancelled members complete only after e2h resume abcdef01."
        })
    var waiting = group
    waiting.members = [members[1]]
    waiting.summary.members = GroupStateCounts(states: [.failed])
    let awaiting = try XHTMLDocument(ComparePage.awaitingCompletion(waiting).render())
    #expect(awaiting.all("li").map(\.text) == ["00000001 seed=1 failed"])
    #expect(
        awaiting.all("p").contains {
            $0.text == "No member has completed, so there is nothing to compare yet; the figures appear as members "
                + "complete; failed and cancelled members complete only after e2h resume abcdef01."
        })
    #expect(awaiting.all("svg").isEmpty)
}

@Test func theComparePageListsTheClaimsNamedBeforeTheRunWithTheirVerdicts() throws {
    var claimed = Fixtures.row(method: "weighted", evaluator: "orm", n: 64, levels: .hard, accuracy: 0.3)
    claimed.difference = IntervalEstimate(
        mean: -0.05, lower: -0.09, upper: -0.01, method: .seedT, seeds: 3, sd: 0.02, problems: 300)
    claimed.verdict = .reversed
    var report = Fixtures.headline
    report.claims = [ClaimResult(name: Fixtures.hostile, row: claimed, versus: "sft_best/greedy@1")]
    let page = ComparePage(
        title: "Group",
        comparison: CompareResponse(runs: [Fixtures.run()], report: report, specDifferences: [], warnings: []),
        grid: Fixtures.grid,
        metrics: [Fixtures.metrics])
    let document = try XHTMLDocument(page.page().render())
    #expect(document.all("h3").contains { $0.text == "Claims named before the run" })
    let cells = document.all("td").map(\.text)
    #expect(cells.contains(Fixtures.hostile))
    #expect(cells.contains("sft_best/greedy@1") && cells.contains("reversed") && cells.contains("-5.0 [-9.0, -1.0]"))

    // Without claims, no claims table.
    let plain = try XHTMLDocument(
        ComparePage(
            title: "Group",
            comparison: CompareResponse(
                runs: [Fixtures.run()], report: Fixtures.headline, specDifferences: [], warnings: []),
            grid: Fixtures.grid, metrics: [Fixtures.metrics]
        ).page().render())
    #expect(!plain.all("h3").contains { $0.text == "Claims named before the run" })
}
