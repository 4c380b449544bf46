import Testing

@testable import Charts

@Test func trainingCurvesGetAPanelPerMetricLeadingWithLoss() {
    let figure = TrainingCurvesFigure.figure(curves: [
        TrainingCurve(stage: "rl", model: "ppo", metric: "clip_fraction", points: [CurvePoint(step: 1, value: 0.1)]),
        TrainingCurve(stage: "rl", model: "ppo", metric: "kl", points: [CurvePoint(step: 1, value: 0.01)]),
        TrainingCurve(stage: "sft", model: "policy", metric: "loss", points: [CurvePoint(step: 1, value: 2)]),
        TrainingCurve(stage: "evaluators", model: "orm", metric: "loss", points: [CurvePoint(step: 1, value: 0.7)]),
        TrainingCurve(stage: "rl", model: "ppo", metric: "mean_return", points: [CurvePoint(step: 1, value: 0.2)]),
    ])
    #expect(figure.panels.map(\.title) == ["loss", "mean return", "kl", "clip fraction"])
    #expect(
        figure.panels[0].series.map(\.label.identifier) == ["stage=sft, model=policy", "stage=evaluators, model=orm"])
    #expect(figure.panels.allSatisfy { $0.xAxis.label == "step" && $0.xAxis.tickFormat == .compact })
    #expect(figure.columns == 2)
}

@Test func overlaidRunsAreToldApartByTheirAttributesWithTheirSpread() {
    let curves = ["r1", "r2"].map { run in
        TrainingCurve(
            stage: "sft", model: "policy", metric: "loss", attributes: [Attribute(key: "run", value: run)],
            points: [CurvePoint(step: 10, value: 1, spread: Band(lower: 0.9, upper: 1.1))])
    }
    let figure = TrainingCurvesFigure.figure(curves: curves)
    let plan = LegendPlan(figure.panels)
    #expect(plan.entries.map(\.text) == ["r1", "r2"])
    #expect(plan.shared == ["stage: sft", "model: policy"])
    #expect(figure.panels[0].series[0].points[0].band == Band(lower: 0.9, upper: 1.1))
}

@Test func accuracyVersusNHasALog2AxisAndAPanelPerLevelOnASharedScale() {
    var measurements: [AccuracyMeasurement] = []
    for (level, accuracy) in [(AccuracyMeasurement.Level.easy, 0.9), (.hard, 0.1), (.all, 0.5)] {
        for method in ["majority", "weighted"] {
            for n in [1, 4, 16] {
                measurements.append(
                    AccuracyMeasurement(
                        policy: "sft", method: method, evaluator: "verifier", aggregation: "mean", level: level, n: n,
                        accuracy: accuracy, interval: Band(lower: accuracy - 0.05, upper: accuracy + 0.05)))
            }
        }
    }
    let figure = AccuracyVersusNFigure.figure(measurements: measurements)
    #expect(figure.panels.map(\.title) == ["easy", "hard"])
    #expect(figure.columns == 2)
    for panel in figure.panels {
        #expect(panel.xAxis.scale == .log2)
        #expect(panel.yAxis.tickFormat == .percent)
        #expect(panel.yAxis.domain == .fixed(lower: 0, upper: 1))
        #expect(panel.series.count == 2)
        #expect(
            panel.series.allSatisfy { $0.points.map(\.x) == [1, 4, 16] && $0.points.allSatisfy { $0.band != nil } })
    }
    #expect(figure.panels[1].series[0].points[0].y == 0.1)
    #expect(LegendPlan(figure.panels).heading == "method")
}

@Test func aLevelWithoutMeasurementsIsAnEmptyPanel() throws {
    let figure = AccuracyVersusNFigure.figure(measurements: [
        AccuracyMeasurement(
            policy: "sft", method: "m", evaluator: "e", aggregation: "a", level: .easy, n: 1, accuracy: 0.5)
    ])
    #expect(figure.panels[1].series.isEmpty)
    let document = try SVGDocument(SVGRenderer().render(figure))
    #expect(document.all("text", classes: "empty").count == 1)
}

@Test func theAccuracyAxisStopsAtOneHundredPercentWhenAnIntervalReachesPast() {
    let figure = AccuracyVersusNFigure.figure(measurements: [
        AccuracyMeasurement(
            policy: "sft", method: "m", evaluator: "e", aggregation: "a", level: .easy, n: 1, accuracy: 0.97,
            interval: Band(lower: 0.9, upper: 1.04)),
        AccuracyMeasurement(
            policy: "sft", method: "m", evaluator: "e", aggregation: "a", level: .hard, n: 1, accuracy: 0.02,
            interval: Band(lower: -0.03, upper: 0.07)),
    ])
    #expect(figure.panels.allSatisfy { $0.yAxis.domain == .fixed(lower: 0, upper: 1) })
}
