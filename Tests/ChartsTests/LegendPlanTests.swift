import Testing

@testable import Charts

private func chart(_ labels: [SeriesLabel]) -> LineChart {
    LineChart(
        title: "", xAxis: Axis(label: "x"), yAxis: Axis(label: "y"),
        series: labels.map { Series(label: $0, points: [DataPoint(x: 1, y: 1)]) })
}

@Test func theLegendNamesOnlyWhatDiffers() {
    let plan = LegendPlan([
        chart([
            SeriesLabel(["policy": "sft", "method": "weighted", "evaluator": "verifier"]),
            SeriesLabel(["policy": "sft", "method": "majority", "evaluator": "verifier"]),
            SeriesLabel(["policy": "sft", "method": "weighted", "evaluator": "orm"]),
        ])
    ])
    #expect(plan.heading == "method · evaluator")
    #expect(plan.entries.map(\.text) == ["weighted · verifier", "majority · verifier", "weighted · orm"])
    #expect(plan.shared == ["policy: sft"])
}

@Test func panelsShareSeriesByLabelInOrderOfFirstAppearance() {
    let a = SeriesLabel(name: "a")
    let b = SeriesLabel(name: "b")
    let c = SeriesLabel(name: "c")
    let plan = LegendPlan([chart([b, a]), chart([a, c])])
    #expect(plan.entries.map(\.label) == [b, a, c])
    #expect(plan.index(of: c) == 2)
    #expect(plan.heading == nil)
    #expect(plan.entries.map(\.text) == ["b", "a", "c"])
}

@Test func aMissingAttributeCountsAsADifference() {
    let plan = LegendPlan([chart([SeriesLabel(["stage": "rl", "run": "r1"]), SeriesLabel(["stage": "rl"])])])
    #expect(plan.heading == "run")
    #expect(plan.entries.map(\.text) == ["r1", "–"])
    #expect(plan.shared == ["stage: rl"])
}

@Test func aSingleSeriesIsNamedInFull() {
    let plan = LegendPlan([chart([SeriesLabel(["stage": "sft", "model": "policy"])])])
    #expect(plan.heading == nil)
    #expect(plan.shared.isEmpty)
    #expect(plan.entries.map(\.text) == ["stage: sft · model: policy"])
}

/// A row without an evaluator named it "verifier · greedy · none · none"; its entry leaves the absent parts out.
@Test func anAbsentPartIsLeftOutOfItsEntry() {
    let plan = LegendPlan([
        chart([
            SeriesLabel(["policy": "verifier", "method": "greedy", "evaluator": "none", "aggregation": "none"]),
            SeriesLabel(["policy": "sft", "method": "weighted", "evaluator": "orm", "aggregation": "prod"]),
        ])
    ])
    #expect(plan.entries.map(\.text) == ["verifier · greedy", "sft · weighted · orm · prod"])
}

/// The eighth series shares the first's colour (seven colours), so its marker must be unlike the first's circle: a
/// hexagon there could not be told from it at 6 px.
@Test func theSeriesWhoseColourRepeatsHasAMarkerUnlikeTheFirsts() {
    #expect(Palette.light.seriesColor(7) == Palette.light.seriesColor(0))
    #expect(MarkerShape.forSeries(0) == .circle && MarkerShape.forSeries(7) == .cross)
}
