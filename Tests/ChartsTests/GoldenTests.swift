import Foundation
import Testing

@testable import Charts

/// Small fixed figures against SVG files committed under Golden/, byte for byte. On a mismatch (or when the
/// file is missing) the actual output is written beside it as NAME.actual.svg and the test fails: compare
/// the two, and if the new drawing is right, rename the actual file over the golden one.
struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static let cases: [(name: String, figure: Figure, options: SVGRenderer.Options)] = [
        ("accuracy-vs-n", accuracy, SVGRenderer.Options()),
        ("training-curves", training, SVGRenderer.Options(idPrefix: "curves")),
        ("edge-cases", edgeCases, SVGRenderer.Options(colorScheme: .dark, embedsStylesheet: false)),
    ]

    @Test(arguments: cases.indices)
    func matchesTheCommittedFile(index: Int) throws {
        let (name, figure, options) = Self.cases[index]
        let actual = SVGRenderer(options: options).render(figure)
        _ = try SVGDocument(actual)
        let golden = Self.directory.appendingPathComponent("\(name).svg")
        let mismatch = Self.directory.appendingPathComponent("\(name).actual.svg")
        guard let expected = try? String(contentsOf: golden, encoding: .utf8) else {
            try actual.write(to: mismatch, atomically: true, encoding: .utf8)
            Issue.record("no golden file \(golden.path); the output was written to \(mismatch.path)")
            return
        }
        if expected == actual {
            try? FileManager.default.removeItem(at: mismatch)
        } else {
            try actual.write(to: mismatch, atomically: true, encoding: .utf8)
            Issue.record("\(name).svg differs from the renderer's output, written to \(mismatch.path)")
        }
    }

    static var accuracy: Figure {
        var measurements: [AccuracyMeasurement] = []
        for (level, base) in [(AccuracyMeasurement.Level.easy, 0.5), (.hard, 0.1)] {
            for (index, method) in ["majority", "weighted"].enumerated() {
                for (step, n) in [1, 2, 4, 8].enumerated() {
                    let accuracy = base + 0.05 * Double(step) + 0.02 * Double(index)
                    measurements.append(
                        AccuracyMeasurement(
                            policy: "sft", method: method, evaluator: "verifier", aggregation: "mean", level: level,
                            n: n,
                            accuracy: accuracy, interval: Band(lower: accuracy - 0.04, upper: accuracy + 0.04)))
                }
            }
        }
        return AccuracyVersusNFigure.figure(subtitle: "run 0001", measurements: measurements)
    }

    static var training: Figure {
        func points(_ values: [Double]) -> [CurvePoint] {
            values.enumerated().map { CurvePoint(step: ($0.offset + 1) * 250, value: $0.element) }
        }
        return TrainingCurvesFigure.figure(
            subtitle: "run 0001",
            curves: [
                TrainingCurve(
                    stage: "sft", model: "policy", metric: "loss", points: points([2.4, 1.9, 1.5, 1.3, 1.2, 1.15])),
                TrainingCurve(
                    stage: "evaluators", model: "verifier", metric: "loss",
                    points: points([0.69, 0.6, .nan, 0.45, 0.41])),
                TrainingCurve(
                    stage: "rl", model: "ppo", metric: "mean_return", points: points([0.1, 0.18, 0.22, 0.3])),
            ])
    }

    static var edgeCases: Figure {
        let hostile = #"<script>alert("x")</script> & 'n'"#
        return Figure(
            title: "Edge cases: \(hostile)", subtitle: hostile,
            panels: [
                LineChart(title: "empty", xAxis: Axis(label: "x"), yAxis: Axis(label: "y"), series: []),
                LineChart(
                    title: "constant and single", xAxis: Axis(label: "N", scale: .log2),
                    yAxis: Axis(label: "y", unit: "µs & <ms>"),
                    series: [
                        Series(label: SeriesLabel(name: hostile), points: [1, 2, 4].map { DataPoint(x: $0, y: 3) }),
                        Series(
                            label: SeriesLabel(name: "single"),
                            points: [DataPoint(x: 2, y: 3.2, band: Band(lower: 3.1, upper: 3.3))]),
                    ]),
            ],
            columns: 2, panelSize: PanelSize(width: 300, height: 200))
    }
}
