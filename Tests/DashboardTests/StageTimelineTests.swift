import Foundation
import Testing
import WireTypes

@testable import Dashboard

@Test func stagesAreTimedFromTheirStartAndCompletionEvents() {
    let timeline = StageTimeline(events: Fixtures.events)
    #expect(timeline.spans.map(\.stage) == ["split", "sft"])
    #expect(timeline.spans[0].duration(now: Fixtures.start + 1000) == 2)
    #expect(timeline.spans[1].completed == nil)
    #expect(timeline.spans[1].duration(now: Fixtures.start + 10) == 7)
}

@Test func aStageRestartedByAResumeKeepsItsFirstStart() {
    let events =
        Fixtures.events + [
            Fixtures.event(5, "StageStarted", stage: "sft", at: 20),
            Fixtures.event(6, "StageCompleted", stage: "sft", at: 30),
        ]
    let timeline = StageTimeline(events: events)
    #expect(timeline.spans.count == 2)
    #expect(timeline.spans[1].duration(now: Fixtures.start) == 27)
}
