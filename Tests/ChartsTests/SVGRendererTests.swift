import Testing

@testable import Charts

private let hostile = #"<script>alert("x")</script> & 'quotes'"#

private func series(_ name: String, _ points: [(Double, Double)]) -> Series {
    Series(label: SeriesLabel(name: name), points: points.map { DataPoint(x: $0.0, y: $0.1) })
}

private func chart(_ series: [Series], x: Axis = Axis(label: "step"), y: Axis = Axis(label: "loss")) -> LineChart {
    LineChart(title: "chart", xAxis: x, yAxis: y, series: series)
}

@Test func everyPieceOfUserTextIsEscaped() throws {
    let figure = Figure(
        title: hostile, subtitle: hostile,
        panels: [
            LineChart(
                title: hostile, xAxis: Axis(label: hostile, unit: hostile), yAxis: Axis(label: hostile, unit: "<b>"),
                series: [
                    Series(
                        label: SeriesLabel([Attribute(key: hostile, value: hostile), Attribute(key: "k", value: "1")]),
                        points: [DataPoint(x: 1, y: 1), DataPoint(x: 2, y: 2)]),
                    Series(
                        label: SeriesLabel([Attribute(key: hostile, value: hostile), Attribute(key: "k", value: "2")]),
                        points: [DataPoint(x: 1, y: 2)]),
                ])
        ])
    let svg = SVGRenderer(options: .init(idPrefix: hostile)).render(figure)
    #expect(!svg.contains("<script"))
    #expect(!svg.contains("<b>"))
    #expect(svg.contains("&lt;script&gt;"))
    let document = try SVGDocument(svg)
    #expect(document.all("script").isEmpty)
    // Parsed back, the text is exactly what the user wrote.
    #expect(document.all("text", classes: "title").first?.text == hostile)
    #expect(document.all("text", classes: "panel-title").first?.text == hostile)
    #expect(document.all("path", classes: "series").first?.attributes["data-series"] == "\(hostile)=\(hostile), k=1")
    #expect(document.texts.contains { $0.contains("\(hostile) (<b>)") })
    #expect(
        document.all("clipPath").allSatisfy {
            $0.attributes["id"]?.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } == true
        })
}

@Test func thereIsOnePathPerSeriesAndOneLegendEntryPerDistinctSeries() throws {
    let a = series("a", [(1, 1), (2, 3)])
    let b = series("b", [(1, 2), (2, 1)])
    let c = series("c", [(1, 0), (2, 0)])
    let figure = Figure(title: "two panels", panels: [chart([a, b]), chart([b, c])], columns: 2)
    let document = try SVGDocument(SVGRenderer().render(figure))
    #expect(document.all("path", classes: "series").count == 4)
    #expect(
        document.all("g", classes: "legend-entry").map { $0.attributes["data-series"] } == [
            "series=a", "series=b", "series=c",
        ])
    #expect(document.all("g", classes: "axis", "x").count == 2)
    #expect(document.all("g", classes: "axis", "y").count == 2)
    // The same series has the same colour class in both panels.
    let colours = document.all("g", classes: "series-group").filter { $0.attributes["data-series"] == "series=b" }.map(
        \.classes)
    #expect(colours.count == 2 && colours[0] == colours[1])
}

@Test func nonFiniteValuesAreSkippedAndBreakTheLine() throws {
    let figure = Figure(
        title: "gaps",
        panels: [
            chart([
                Series(
                    label: SeriesLabel(name: "s"),
                    points: [
                        DataPoint(x: 1, y: 1, band: Band(lower: .nan, upper: 2)), DataPoint(x: 2, y: 2),
                        DataPoint(x: 3, y: .nan), DataPoint(x: .infinity, y: 1), DataPoint(x: 4, y: 3),
                        DataPoint(x: 5, y: -.infinity), DataPoint(x: 6, y: 1), DataPoint(x: 7, y: 2),
                    ])
            ])
        ])
    let svg = SVGRenderer().render(figure)
    #expect(!svg.lowercased().contains("nan"))
    #expect(!svg.lowercased().contains("inf"))
    let document = try SVGDocument(svg)
    let line = try #require(document.all("path", classes: "series").first?.attributes["d"])
    // Two drawable runs, (1,2) and (6,7); the lone point 4 is a marker only.
    #expect(line.filter { $0 == "M" }.count == 2)
    #expect(document.all("path", classes: "band").isEmpty)
}

@Test func log2AxesSkipPointsTheyCannotPlace() throws {
    let figure = Figure(
        title: "log", panels: [chart([series("s", [(0, 0.5), (1, 0.6), (4, 0.7)])], x: Axis(label: "N", scale: .log2))])
    let document = try SVGDocument(SVGRenderer().render(figure))
    let line = try #require(document.all("path", classes: "series").first?.attributes["d"])
    #expect(line.filter { $0 == "L" }.count == 1)
    #expect(document.all("text", classes: "tick-label").map(\.text).prefix(3) == ["1", "2", "4"])
}

@Test func emptyDataStillDrawsAxesAndSaysSo() throws {
    let document = try SVGDocument(SVGRenderer().render(Figure(title: "empty", panels: [chart([])])))
    #expect(document.all("text", classes: "empty").map(\.text) == ["No data"])
    #expect(document.all("g", classes: "axis", "x").count == 1)
    #expect(document.all("g", classes: "legend-entry").isEmpty)
    let allNaN = try SVGDocument(
        SVGRenderer().render(Figure(title: "nan", panels: [chart([series("s", [(.nan, 1)])])])))
    #expect(allNaN.all("text", classes: "empty").count == 1)
    #expect(allNaN.all("path", classes: "series").first?.attributes["d"] == "")
    let noPanels = try SVGDocument(SVGRenderer().render(Figure(title: "none", panels: [])))
    #expect(noPanels.all("g", classes: "panel").isEmpty)
}

@Test func aSinglePointIsDrawnAsAMarkerWithItsInterval() throws {
    let single = Series(
        label: SeriesLabel(name: "one"), points: [DataPoint(x: 8, y: 0.5, band: Band(lower: 0.4, upper: 0.6))])
    let document = try SVGDocument(SVGRenderer().render(Figure(title: "single", panels: [chart([single])])))
    #expect(document.all("path", classes: "markers").count == 1)
    #expect(document.all("path", classes: "band").count == 1)
    #expect(document.all("text", classes: "empty").isEmpty)
}

@Test func longSeriesAreMarkedSparsely() throws {
    let long = series("long", (0..<300).map { (Double($0), Double($0 % 7)) })
    let document = try SVGDocument(SVGRenderer().render(Figure(title: "long", panels: [chart([long])])))
    let markers = try #require(document.all("path", classes: "markers").first?.attributes["d"])
    #expect((10...14).contains(markers.filter { $0 == "Z" }.count))
}

@Test func pointsOutOfOrderAreDrawnInXOrder() throws {
    let shuffled = series("s", [(3, 1), (1, 1), (2, 1)])
    let document = try SVGDocument(SVGRenderer().render(Figure(title: "order", panels: [chart([shuffled])])))
    let line = try #require(document.all("path", classes: "series").first?.attributes["d"])
    let xs = line.dropFirst().split(separator: "L").map { Double($0.split(separator: ",")[0])! }
    #expect(xs == xs.sorted() && xs.count == 3)
}

@Test func renderingIsDeterministic() {
    let figure = Figure(
        title: "same", panels: [chart([series("a", [(1, 0.1), (2, 0.25)]), series("b", [(1, 2), (3, 4)])])])
    #expect(SVGRenderer().render(figure) == SVGRenderer().render(figure))
}

@Test func theStylesheetAdaptsToDarkModeAndCanBeLeftOut() throws {
    let figure = Figure(title: "style", panels: [chart([series("a", [(1, 1), (2, 2)])])])
    let adaptive = SVGRenderer().render(figure)
    #expect(adaptive.contains("@media (prefers-color-scheme: dark)"))
    #expect(adaptive.contains(ChartStylesheet.css()))
    let external = SVGRenderer(options: .init(embedsStylesheet: false)).render(figure)
    #expect(try SVGDocument(external).all("style").isEmpty)
    // A fixed dark scheme draws dark colours even where CSS is ignored.
    let dark = try SVGDocument(SVGRenderer(options: .init(colorScheme: .dark)).render(figure))
    #expect(dark.all("rect", classes: "background").first?.attributes["fill"] == Palette.dark.background)
    #expect(!ChartStylesheet.css(.dark).contains("@media"))
}

@Test func seriesGetDistinctColourAndMarkerPairs() {
    let pairs = (0..<56).map { "\(Palette.light.seriesColor($0)) \(MarkerShape.forSeries($0))" }
    #expect(Set(pairs).count == 56)
}

@Test func aSingleChartIsAFigureTitledByTheChart() throws {
    let document = try SVGDocument(SVGRenderer().render(chart([series("a", [(1, 1), (2, 2)])])))
    #expect(document.all("text", classes: "title").map(\.text) == ["chart"])
    #expect(document.all("text", classes: "panel-title").isEmpty)
}

@Test func aLegendLabelTooLongForTheFigureIsShortenedWithTheFullTextAsATooltip() throws {
    let long = String(repeating: "very long evaluator name ", count: 12)
    let figure = Figure(
        title: "long", panels: [chart([series(long, [(1, 1), (2, 2)]), series("b", [(1, 2), (2, 1)])])])
    let document = try SVGDocument(SVGRenderer().render(figure))
    let entry = try #require(document.all("g", classes: "legend-entry").first)
    let texts = document.elements.filter { $0.name == "text" && $0.text.hasPrefix("very long") }
    #expect(texts.count == 1 && texts[0].text.hasSuffix("…") && texts[0].text.count < long.count)
    #expect(document.all("title").contains { $0.text == long })
    #expect(entry.attributes["data-series"] == "series=\(long)")
}

@Test func overlappingTickLabelsAreThinnedToEveryFewUntilTheyFit() {
    let crowded = (0..<10).map { (centre: Double($0) * 15, extent: 30.0) }
    #expect(PanelRenderer.spaced(crowded) == [0, 3, 6, 9])
    let roomy = (0..<5).map { (centre: Double($0) * 50, extent: 30.0) }
    #expect(PanelRenderer.spaced(roomy) == [0, 1, 2, 3, 4])
}

@Test func aDivergedSeriesStillRendersAValidChart() throws {
    let diverged = series("diverged", [(1, 2), (2, 1e200), (3, 1e308), (4, -1e308)])
    let document = try SVGDocument(SVGRenderer().render(Figure(title: "diverged", panels: [chart([diverged])])))
    #expect(document.all("path", classes: "series").count == 1)
}

@Test func pointsFarOutsideAFixedDomainAreClippedNotOverflowed() throws {
    let outside = series("outside", [(0, 0.5), (1, 1e300), (2, -1e300)])
    let svg = SVGRenderer().render(
        Figure(title: "fixed", panels: [chart([outside], y: Axis(label: "y", domain: .fixed(lower: 0, upper: 1e-300)))])
    )
    let document = try SVGDocument(svg)
    let line = try #require(document.all("path", classes: "series").first?.attributes["d"])
    #expect(line.filter { $0 == "L" }.count == 2)
    #expect(!svg.contains("inf") && !svg.contains("nan"))
}
