import Randomness
import Testing

@testable import Charts

/// Random figures built from awkward values (zeros, extremes, non-finite numbers, fixed domains that
/// exclude the data) must all render to well-formed SVG without tripping a precondition: a chart of a
/// broken run must never take the dashboard down.
@Test func awkwardFiguresAlwaysRenderWellFormed() throws {
    var random = RandomGenerator(seed: 20_261_201)  // seeded, so a failure reproduces
    let awkward: [Double] = [
        0, -0.0, 1, -1, 0.5, 3, 1e-300, -1e-300, 1e300, -1e300, 1e308, -1e308, .nan, .infinity, -.infinity,
        .leastNonzeroMagnitude, 1e15, 1e15 + 0.25, 123_456.789, 0.001,
    ]
    func value() -> Double {
        random.next() % 3 == 0
            ? Double(random.next() % 2000) / 7 - 100 : awkward[Int(random.next() % UInt64(awkward.count))]
    }
    func axis() -> Axis {
        let scale: AxisScale = random.next() % 2 == 0 ? .linear : .log2
        let domain: AxisDomain =
            switch random.next() % 3 {
            case 0: .automatic(includingZero: false)
            case 1: .automatic(includingZero: true)
            default: .fixed(lower: value(), upper: value())
            }
        let format: TickFormat = [.number, .percent, .compact][Int(random.next() % 3)]
        return Axis(label: "a", scale: scale, domain: domain, tickFormat: format)
    }
    for round in 0..<300 {
        let series = (0..<Int(random.next() % 4)).map { index in
            Series(
                label: SeriesLabel(name: "s\(index)"),
                points: (0..<Int(random.next() % 6)).map { _ in
                    DataPoint(
                        x: value(), y: value(),
                        band: random.next() % 2 == 0 ? Band(lower: value(), upper: value()) : nil)
                })
        }
        let figure = Figure(
            title: "round \(round)", panels: [LineChart(title: "p", xAxis: axis(), yAxis: axis(), series: series)])
        let svg = SVGRenderer().render(figure)
        let document = try SVGDocument(svg)
        #expect(document.all("path", classes: "series").count == series.count)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }
}
