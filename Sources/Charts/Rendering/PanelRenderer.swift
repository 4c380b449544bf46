/// Writes one panel: its title, grid, axes with ticks and titles, and per series a band, a line and
/// markers, all clipped to the plot area.
struct PanelRenderer {
    struct PlotArea {
        var left: Double
        var top: Double
        var right: Double
        var bottom: Double
        var width: Double { right - left }
        var height: Double { bottom - top }
    }

    static let markerRadius = 3.5
    static let tickLength = 4.0
    static let tickFontSize = 11.0
    /// Beyond this many points a series gets markers on about `markedPoints` of them, not every one.
    static let markedPoints = 12

    let chart: LineChart
    let size: PanelSize
    let legend: LegendPlan
    let palette: Palette
    let clipID: String
    let x: ResolvedAxis
    let y: ResolvedAxis
    let plot: PlotArea

    init(chart: LineChart, size: PanelSize, legend: LegendPlan, palette: Palette, clipID: String) {
        self.chart = chart
        self.size = size
        self.legend = legend
        self.palette = palette
        self.clipID = clipID
        (x, y) = Self.axes(chart)
        plot = Self.plotArea(chart, x: x, y: y, size: size)
    }

    private static func axes(_ chart: LineChart) -> (ResolvedAxis, ResolvedAxis) {
        var xs: [Double] = []
        var ys: [Double] = []
        for series in chart.series {
            for point in series.points
            where ResolvedAxis.canPlace(point.x, on: chart.xAxis.scale)
                && ResolvedAxis.canPlace(point.y, on: chart.yAxis.scale)
            {
                xs.append(point.x)
                ys.append(point.y)
                if let band = point.band {
                    ys.append(band.lower)
                    ys.append(band.upper)
                }
            }
        }
        return (ResolvedAxis(chart.xAxis, values: xs), ResolvedAxis(chart.yAxis, values: ys))
    }

    private static func plotArea(_ chart: LineChart, x: ResolvedAxis, y: ResolvedAxis, size: PanelSize) -> PlotArea {
        let yLabelWidth = y.ticks.map { TextWidth.estimate($0.label, fontSize: tickFontSize) }.max() ?? 0
        let left = 4 + (chart.yAxis.title.isEmpty ? 0 : 20) + yLabelWidth + tickLength + 4
        let lastXLabel = x.ticks.last.map { TextWidth.estimate($0.label, fontSize: tickFontSize) } ?? 0
        let right = max(12, lastXLabel / 2 + 4)
        let top = chart.title.isEmpty ? 10.0 : 28.0
        let bottom = tickLength + 16 + (chart.xAxis.title.isEmpty ? 0 : 18) + 6
        return PlotArea(left: left, top: top, right: size.width - right, bottom: size.height - bottom)
    }

    /// The clip paths of the plot area: a little larger for lines and markers, so markers on its edges are drawn
    /// whole, and exact for interval bands (`bandClipID`), which stop at the axes' ends (0 and 100 %) rather than
    /// spill past them.
    func writeClipPath(into svg: inout SVGWriter) {
        let c = DecimalText.coordinate
        for (id, bleed) in [(clipID, Self.markerRadius + 1.5), (bandClipID, 0)] {
            svg.start("clipPath", [("id", id)])
            svg.element(
                "rect",
                [
                    ("x", c(plot.left - bleed)), ("y", c(plot.top - bleed)), ("width", c(plot.width + 2 * bleed)),
                    ("height", c(plot.height + 2 * bleed)),
                ])
            svg.end()
        }
    }

    private var bandClipID: String { clipID + "-bands" }

    func write(index: Int, at origin: FigureLayout.Point, into svg: inout SVGWriter) {
        let c = DecimalText.coordinate
        svg.start(
            "g",
            [
                ("class", "panel"), ("data-panel", String(index)),
                ("transform", "translate(\(c(origin.x)),\(c(origin.y)))"),
            ])
        if !chart.title.isEmpty {
            svg.element(
                "text",
                [
                    ("class", "panel-title"), ("x", c(plot.left)), ("y", "16"), ("font-size", "13"),
                    ("font-weight", "600"), ("fill", palette.foreground),
                ],
                text: TextWidth.fit(chart.title, fontSize: 13, maximum: size.width - plot.left))
        }
        writeGrid(into: &svg)
        writeXAxis(into: &svg)
        writeYAxis(into: &svg)
        writeSeries(into: &svg)
        svg.end()
    }

    private func xPosition(_ value: Double) -> Double? {
        x.fraction(value).map { plot.left + Self.bounded($0) * plot.width }
    }

    private func yPosition(_ value: Double) -> Double? {
        y.fraction(value).map { plot.bottom - Self.bounded($0) * plot.height }
    }

    /// A point far outside a fixed domain is clipped from view, but its coordinate must stay finite to be
    /// written; a thousand plot widths away, the clamp cannot visibly bend the line toward it.
    private static func bounded(_ fraction: Double) -> Double {
        min(max(fraction, -1000), 1001)
    }

    private func writeGrid(into svg: inout SVGWriter) {
        let c = DecimalText.coordinate
        svg.start("g", [("class", "grid"), ("stroke", palette.grid), ("stroke-width", "1")])
        for tick in y.ticks {
            guard let position = yPosition(tick.value) else { continue }
            svg.element(
                "line", [("x1", c(plot.left)), ("x2", c(plot.right)), ("y1", c(position)), ("y2", c(position))])
        }
        for tick in x.ticks {
            guard let position = xPosition(tick.value) else { continue }
            svg.element(
                "line", [("x1", c(position)), ("x2", c(position)), ("y1", c(plot.top)), ("y2", c(plot.bottom))])
        }
        svg.end()
    }

    private func writeXAxis(into svg: inout SVGWriter) {
        let c = DecimalText.coordinate
        svg.start("g", [("class", "axis x")])
        svg.element(
            "path",
            [
                ("class", "axis-line"), ("d", "M\(c(plot.left)),\(c(plot.bottom))H\(c(plot.right))"),
                ("stroke", palette.axis), ("fill", "none"),
            ])
        let placed = x.ticks.compactMap { tick in xPosition(tick.value).map { (tick, $0) } }
        let labelled = Self.spaced(placed.map { ($0.1, TextWidth.estimate($0.0.label, fontSize: Self.tickFontSize)) })
        for (index, (tick, position)) in placed.enumerated() {
            svg.element(
                "path",
                [
                    ("class", "tick"), ("d", "M\(c(position)),\(c(plot.bottom))v\(c(Self.tickLength))"),
                    ("stroke", palette.axis),
                ])
            if labelled.contains(index) {
                svg.element(
                    "text",
                    [
                        ("class", "tick-label"), ("x", c(position)), ("y", c(plot.bottom + Self.tickLength + 12)),
                        ("text-anchor", "middle"), ("font-size", c(Self.tickFontSize)), ("fill", palette.muted),
                    ],
                    text: tick.label)
            }
        }
        if !chart.xAxis.title.isEmpty {
            svg.element(
                "text",
                [
                    ("class", "axis-title"), ("x", c(plot.left + plot.width / 2)), ("y", c(size.height - 8)),
                    ("text-anchor", "middle"), ("fill", palette.foreground),
                ],
                text: TextWidth.fit(chart.xAxis.title, fontSize: 12, maximum: size.width))
        }
        svg.end()
    }

    private func writeYAxis(into svg: inout SVGWriter) {
        let c = DecimalText.coordinate
        svg.start("g", [("class", "axis y")])
        svg.element(
            "path",
            [
                ("class", "axis-line"), ("d", "M\(c(plot.left)),\(c(plot.top))V\(c(plot.bottom))"),
                ("stroke", palette.axis), ("fill", "none"),
            ])
        let placed = y.ticks.compactMap { tick in yPosition(tick.value).map { (tick, $0) } }
        let labelled = Self.spaced(placed.map { ($0.1, Self.tickFontSize + 2) })
        for (index, (tick, position)) in placed.enumerated() {
            svg.element(
                "path",
                [
                    ("class", "tick"), ("d", "M\(c(plot.left)),\(c(position))h\(c(-Self.tickLength))"),
                    ("stroke", palette.axis),
                ])
            if labelled.contains(index) {
                svg.element(
                    "text",
                    [
                        ("class", "tick-label"), ("x", c(plot.left - Self.tickLength - 3)), ("y", c(position + 4)),
                        ("text-anchor", "end"), ("font-size", c(Self.tickFontSize)), ("fill", palette.muted),
                    ],
                    text: tick.label)
            }
        }
        if !chart.yAxis.title.isEmpty {
            let centre = plot.top + plot.height / 2
            svg.element(
                "text",
                [
                    ("class", "axis-title"), ("x", "0"), ("y", "0"),
                    ("transform", "translate(16,\(c(centre))) rotate(-90)"), ("text-anchor", "middle"),
                    ("fill", palette.foreground),
                ],
                text: TextWidth.fit(chart.yAxis.title, fontSize: 12, maximum: plot.height + plot.top))
        }
        svg.end()
    }

    /// The indices of the labels to show: every one if they do not overlap, else every second, third, …
    /// `labels` are (centre, extent along the axis) in axis order.
    static func spaced(_ labels: [(centre: Double, extent: Double)]) -> Set<Int> {
        var stride = 1
        while stride < labels.count {
            let kept = Swift.stride(from: 0, to: labels.count, by: stride).map { labels[$0] }
            let overlaps = zip(kept, kept.dropFirst()).contains { a, b in
                abs(b.centre - a.centre) < (a.extent + b.extent) / 2 + 6
            }
            if !overlaps { break }
            stride += 1
        }
        return Set(Swift.stride(from: 0, to: labels.count, by: stride))
    }

    private func writeSeries(into svg: inout SVGWriter) {
        let c = DecimalText.coordinate
        svg.start("g", [("class", "plot"), ("clip-path", "url(#\(clipID))")])
        var anyPoint = false
        let drawn = chart.series.map { series in (series, segments(of: series)) }
        for (order, (series, segments)) in drawn.enumerated() {
            let index = legend.index(of: series.label)
            let color = palette.seriesColor(index)
            anyPoint = anyPoint || segments.contains { !$0.isEmpty }
            svg.start(
                "g",
                [("class", "series-group s\(index % palette.series.count)"), ("data-series", series.label.identifier)])
            let band = bandPath(segments)
            if !band.isEmpty {
                svg.element(
                    "path",
                    [
                        ("class", "band"), ("d", band), ("fill", color), ("fill-opacity", "0.14"),
                        ("clip-path", "url(#\(bandClipID))"),
                    ])
            }
            let line = segments.filter { $0.count > 1 }.map { segment in
                "M" + segment.map { "\(c($0.x)),\(c($0.y))" }.joined(separator: "L")
            }
            svg.element(
                "path",
                [
                    ("class", "series"), ("data-series", series.label.identifier), ("d", line.joined()),
                    ("fill", "none"), ("stroke", color), ("stroke-width", "2"), ("stroke-linejoin", "round"),
                    ("stroke-linecap", "round"),
                ])
            let markers = markerPath(segments, shape: MarkerShape.forSeries(index), order: order)
            if !markers.isEmpty {
                svg.element("path", [("class", "markers"), ("d", markers), ("fill", color)])
            }
            svg.end()
        }
        svg.end()
        if !anyPoint {
            svg.element(
                "text",
                [
                    ("class", "empty"), ("x", c(plot.left + plot.width / 2)), ("y", c(plot.top + plot.height / 2)),
                    ("text-anchor", "middle"), ("fill", palette.foreground),
                ],
                text: "No data")
        }
    }

    private struct Placed {
        var x: Double
        var y: Double
        var lower: Double?
        var upper: Double?
    }

    /// The series' points in x order as positions, split where a point cannot be placed.
    private func segments(of series: Series) -> [[Placed]] {
        let ordered = series.points.enumerated().sorted { a, b in
            a.element.x != b.element.x ? a.element.x < b.element.x : a.offset < b.offset
        }
        var segments: [[Placed]] = [[]]
        for (_, point) in ordered {
            guard let px = xPosition(point.x), let py = yPosition(point.y) else {
                if !segments[segments.count - 1].isEmpty { segments.append([]) }
                continue
            }
            let lower = point.band.flatMap { yPosition($0.lower) }
            let upper = point.band.flatMap { yPosition($0.upper) }
            let banded = lower != nil && upper != nil
            segments[segments.count - 1].append(
                Placed(x: px, y: py, lower: banded ? lower : nil, upper: banded ? upper : nil))
        }
        return segments.filter { !$0.isEmpty }
    }

    /// One closed shape per run of points that all have a band: along the upper ends and back along the
    /// lower ones. A lone point's band is a narrow bar.
    private func bandPath(_ segments: [[Placed]]) -> String {
        let c = DecimalText.coordinate
        var path = ""
        for segment in segments {
            var run: [Placed] = []
            for point in segment + [Placed(x: 0, y: 0, lower: nil, upper: nil)] {
                if point.lower != nil {
                    run.append(point)
                    continue
                }
                if run.count == 1, let lower = run[0].lower, let upper = run[0].upper {
                    let half = Self.markerRadius
                    path +=
                        "M\(c(run[0].x - half)),\(c(upper))H\(c(run[0].x + half))V\(c(lower))H\(c(run[0].x - half))Z"
                } else if run.count > 1 {
                    let upper = run.map { "\(c($0.x)),\(c($0.upper!))" }
                    let lower = run.reversed().map { "\(c($0.x)),\(c($0.lower!))" }
                    path += "M" + (upper + lower).joined(separator: "L") + "Z"
                }
                run = []
            }
        }
        return path
    }

    /// Markers on every point of a short series; on a long one, on about `markedPoints` of them, with the
    /// start shifted per series so markers of overlapping lines do not sit on top of each other. A point
    /// with no neighbour to draw a line to is always marked, or it would not be seen.
    private func markerPath(_ segments: [[Placed]], shape: MarkerShape, order: Int) -> String {
        let count = segments.reduce(0) { $0 + $1.count }
        let stride = count > 2 * Self.markedPoints ? (count + Self.markedPoints - 1) / Self.markedPoints : 1
        let offset = stride > 1 ? (order * stride / max(1, chart.series.count)) % stride : 0
        var path = ""
        var position = 0
        for segment in segments {
            for point in segment {
                if segment.count == 1 || position % stride == offset {
                    path += shape.path(x: point.x, y: point.y, radius: Self.markerRadius)
                }
                position += 1
            }
        }
        return path
    }
}
