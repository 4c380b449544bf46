import Foundation
import Testing
import WireTypes

@testable import Dashboard

@Test func anEventIsOneServerSentEventWithItsVersionAsId() throws {
    let event = Fixtures.event(7, "StageStarted", stage: "sft\ninjected: x", at: 0)
    let frame = try LiveUpdate.event(LiveUpdate.LiveEvent(event)).frame()
    let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 5)
    #expect(lines[0] == "id: 7")
    #expect(lines[1] == "event: run-event")
    #expect(lines[2].hasPrefix("data: {"))
    #expect(frame.hasSuffix("\n\n"))
    let data = Data(lines[2].dropFirst("data: ".count).utf8)
    let decoded = try JSONDecoder().decode(LiveUpdate.LiveEvent.self, from: data)
    #expect(decoded.stage == "sft\ninjected: x")
    #expect(decoded.version == 7 && decoded.type == "StageStarted")
}

@Test func statusCarriesStateCountAndTheProgressLine() throws {
    var run = Fixtures.run(state: .running)
    run.progress = RunProgress(stage: .sft, task: "policy", done: 10, total: 40, unit: "steps", loss: 0.5)
    let frame = try LiveUpdate.status(LiveUpdate.LiveStatus(run)).frame()
    #expect(frame.hasPrefix("event: status\ndata: "))
    let data = Data(frame.dropFirst("event: status\ndata: ".count).dropLast(2).utf8)
    let status = try JSONDecoder().decode(LiveUpdate.LiveStatus.self, from: data)
    #expect(status == LiveUpdate.LiveStatus(run))
    #expect(status.progress == "sft policy 10/40 steps · loss 0.5000")
}

@Test func theRunsTableIsOneServerSentEventWhoseLinesAReaderJoinsBackToTheMarkup() throws {
    var run = Fixtures.run()
    run.name = "two\nlines"
    let table = RunsPage(runs: [run], filter: .init(), now: Fixtures.start).table()
    let frame = try LiveUpdate.runsTable(table).frame()
    #expect(frame.hasPrefix("event: runs\ndata: <table"))
    var reader = ServerSentEventReader()
    let messages = reader.read(Array(frame.utf8))
    #expect(messages == [ServerSentEvent(event: "runs", data: table.markup)])
    #expect(table.markup.contains("two\nlines"), "the name's line break is the table's, carried whole")
}
