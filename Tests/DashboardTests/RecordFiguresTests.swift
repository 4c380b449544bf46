import Charts
import Testing
import WireTypes

@testable import Dashboard

@Test func trainingCurvesDrawEveryLearnedMetricButNotTheSchedule() {
    let figure = RecordFigures.trainingCurves([Fixtures.metrics])
    #expect(figure.panels.map(\.title) == ["loss", "kl"])
    let loss = figure.panels[0]
    #expect(loss.series.count == 2)
    #expect(loss.series.map { $0.label.value(of: "model") } == ["policy", "orm"])
    #expect(loss.series[0].points.map(\.y) == [2.0, 1.5, 1.2])
    #expect(figure.subtitle == Fixtures.runID)
}

@Test func overlaidRunsAreToldApartByTheirIds() {
    var other = Fixtures.metrics
    other.run = "ffff0000"
    let figure = RecordFigures.trainingCurves([Fixtures.metrics, other])
    #expect(figure.panels[0].series.count == 4)
    #expect(Set(figure.panels[0].series.compactMap { $0.label.value(of: "run") }) == [Fixtures.runID, "ffff0000"])
}

@Test func accuracyVersusNHasAnEasyAndAHardPanelWithOneBandedLinePerMethod() {
    let figure = RecordFigures.accuracyVersusN(Fixtures.grid)
    #expect(figure.panels.map(\.title) == ["easy", "hard"])
    for panel in figure.panels {
        #expect(panel.xAxis.scale == .log2)
        #expect(panel.series.count == 2)
        #expect(panel.series.allSatisfy { $0.points.map(\.x) == [1, 2, 4] })
        #expect(panel.series.allSatisfy { $0.points.allSatisfy { $0.band != nil } })
    }
    let weighted = figure.panels[1].series.first { $0.label.value(of: "method") == "weighted" }
    #expect(weighted?.points.last?.y == 0.32 + 0.06 * 4)
    #expect(weighted?.points.last?.band == Band(lower: 0.32 + 0.06 * 4 - 0.05, upper: 0.32 + 0.06 * 4 + 0.05))
}

@Test func perLevelRowsAreLeftOutOfTheFigure() {
    var report = Fixtures.grid
    report.rows.append(Fixtures.row(method: "best_of_n", evaluator: "orm", n: 4, levels: .level(5), accuracy: 0.1))
    let figure = RecordFigures.accuracyVersusN(report)
    #expect(!figure.panels.flatMap(\.series).contains { $0.label.value(of: "method") == "best_of_n" })
}

@Test func aHeadlineChoosesTheLinesDrawnAtEveryN() {
    let headline = ComparisonReport(
        runs: [Fixtures.runID], baseline: nil, resamples: 2000, headline: true,
        rows: [Fixtures.row(method: "weighted", evaluator: "orm", n: 4, levels: .hard, accuracy: 0.56)])
    let figure = RecordFigures.accuracyVersusN(Fixtures.grid, linesOf: headline)
    for panel in figure.panels {
        #expect(panel.series.map { $0.label.value(of: "method") } == ["weighted"])
        #expect(panel.series.first?.points.map(\.x) == [1, 2, 4])
    }
}

@Test func aGroupsCurveIsTheMeanAtStepsEveryMemberRecordedWithTheRangeAsBand() {
    let a = RunMetrics(
        run: "a",
        series: [
            MetricSeries(stage: "sft", model: "policy", metric: "loss", steps: [1, 2, 3], values: [2, 1.5, 1]),
            MetricSeries(stage: "rl", model: "ppo", metric: "kl", steps: [4], values: [0.1]),
        ])
    let b = RunMetrics(
        run: "b",
        series: [MetricSeries(stage: "sft", model: "policy", metric: "loss", steps: [1, 2], values: [3, 2.5])])
    let figure = RecordFigures.groupTrainingCurves([a, b], group: "sweep")
    #expect(figure.panels.map(\.title) == ["loss"])
    let points = figure.panels[0].series[0].points
    #expect(points.map(\.x) == [1, 2])
    #expect(points.map(\.y) == [2.5, 2])
    #expect(points.map(\.band) == [Band(lower: 2, upper: 3), Band(lower: 1.5, upper: 2.5)])
}
