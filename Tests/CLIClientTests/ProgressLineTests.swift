import Testing
import WireTypes

@testable import CLIClient

private let sft = RunProgress(
    stage: .sft, task: "policy", done: 120, total: 400, unit: "steps", loss: 0.4312, ratePerSecond: 35.0)

@Test func theLineShowsStageBarStepsLossRateAndTimeLeft() {
    #expect(
        ProgressLine(progress: sft).text
            == "sft policy [" + String(repeating: "#", count: 7) + String(repeating: ".", count: 17)
            + "] 120/400 steps · loss 0.4312 · 35.0 steps/s · 8s left")
}

@Test func aFresherEstimateReplacesTheDaemonsRate() {
    var rate = ProgressRate()
    rate.observe(RunProgress(stage: .sft, task: "policy", done: 100, total: 400, unit: "steps"), at: 0)
    rate.observe(sft, at: 2)  // 20 steps in 2 s
    let line = ProgressLine(progress: sft, estimate: rate)
    #expect(line.unitsPerSecond == 10)
    #expect(line.text.hasSuffix("10.0 steps/s · 28s left"))
}

@Test func colourOnlyWhenAskedFor() {
    #expect(!ProgressLine(progress: sft).text.contains("\u{1B}"))
    #expect(ProgressLine(progress: sft, color: true).text.contains("\u{1B}[32m#######\u{1B}[0m"))
}

@Test func aRedrawReturnsToTheLineStartErasesItAndNeverWraps() {
    let line = ProgressLine(progress: sft, color: true)
    let wide = line.redraw(columns: 200)
    #expect(wide.hasPrefix("\r\u{1B}[2K"))
    #expect(wide.hasSuffix("8s left"))
    // 70 columns: the bar and the loss fit (65 characters), the rate and time left are dropped.
    let narrow = line.redraw(columns: 70)
    #expect(narrow.hasSuffix("steps · loss 0.4312"))
    #expect(line.redraw(columns: 65).hasSuffix("120/400 steps"))
    #expect(narrow.contains("\u{1B}[32m"))
    // Narrower than the first part: that part, cut, without colour codes that a cut could break.
    let tiny = line.redraw(columns: 12)
    #expect(tiny == "\r\u{1B}[2K" + "sft policy ")
}

@Test func noTotalNoBarAndDurationsReadAsTime() {
    let sampling = RunProgress(stage: .sample, task: "test pool", done: 7, unit: "problems")
    #expect(ProgressLine(progress: sampling).text == "sample test pool 7 problems")
    #expect(ProgressLine.duration(59.2) == "1m00s")
    #expect(ProgressLine.duration(3725) == "1h02m")
    #expect(ProgressLine.duration(1e300) == "99h59m")
}
