import Testing
import WireTypes

@testable import CLIClient

private func report(_ done: Int, task: String = "policy", rate: Double? = nil) -> RunProgress {
    RunProgress(stage: .sft, task: task, done: done, total: 1000, unit: "steps", ratePerSecond: rate)
}

@Test func startsFromTheDaemonsRate() {
    var rate = ProgressRate()
    rate.observe(report(100, rate: 40), at: 0)
    #expect(rate.unitsPerSecond == 40)
    #expect(rate.secondsLeft(report(100)) == 900.0 / 40)
}

@Test func recentSpeedWeighsMoreTheLongerItLasted() {
    var rate = ProgressRate()
    rate.observe(report(0, rate: 40), at: 0)
    // 10 s at 20 steps/s: one half-life, so the estimate moves half way from 40 to 20.
    rate.observe(report(200), at: 10)
    #expect(abs((rate.unitsPerSecond ?? 0) - 30) < 1e-9)
    // Another 10 s at 20 steps/s: half of the rest.
    rate.observe(report(400), at: 20)
    #expect(abs((rate.unitsPerSecond ?? 0) - 25) < 1e-9)
}

@Test func withoutTheDaemonsRateTheFirstIntervalIsTheEstimate() {
    var rate = ProgressRate()
    rate.observe(report(10), at: 5)
    #expect(rate.unitsPerSecond == nil)
    #expect(rate.secondsLeft(report(10)) == nil)
    rate.observe(report(30), at: 9)
    #expect(rate.unitsPerSecond == 5)
    #expect(rate.secondsLeft(report(30)) == 970.0 / 5)
}

@Test func aRepeatedReportOrACountThatWentBackSaysNothingAboutSpeed() {
    var rate = ProgressRate()
    rate.observe(report(0), at: 0)
    rate.observe(report(100), at: 10)
    rate.observe(report(100), at: 50)
    #expect(rate.unitsPerSecond == 10)
    // A resumed attempt counts again from its checkpoint: the next interval starts there.
    rate.observe(report(40), at: 60)
    #expect(rate.unitsPerSecond == 10)
    rate.observe(report(140), at: 70)
    #expect(abs((rate.unitsPerSecond ?? 0) - 10) < 1e-9)
}

@Test func anotherTaskStartsAfresh() {
    var rate = ProgressRate()
    rate.observe(report(0), at: 0)
    rate.observe(report(100), at: 10)
    rate.observe(report(5, task: "orm", rate: 2), at: 11)
    #expect(rate.unitsPerSecond == 2)
    rate.observe(report(25, task: "orm"), at: 21)
    #expect(abs((rate.unitsPerSecond ?? 0) - 2) < 1e-9)
}
