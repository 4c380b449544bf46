/// Writes the legend: a heading naming the attributes that differ, then one entry per series with its
/// line, marker and label, each a `g.legend-entry` so a browser test can count them.
struct LegendRenderer {
    let plan: LegendPlan
    let palette: Palette
    let layout: FigureLayout

    func write(into svg: inout SVGWriter) {
        guard !plan.entries.isEmpty else { return }
        svg.start("g", [("class", "legend")])
        if let heading = plan.heading, let origin = layout.legendHeading {
            svg.element(
                "text",
                [
                    ("class", "legend-heading"), ("x", DecimalText.coordinate(origin.x)),
                    ("y", DecimalText.coordinate(origin.y)), ("fill", palette.muted),
                ],
                text: TextWidth.fit(heading, fontSize: 12, maximum: layout.width - 2 * FigureLayout.padding))
        }
        let c = DecimalText.coordinate
        for item in layout.legendItems {
            let entry = plan.entries[item.entry]
            let color = palette.seriesColor(item.entry)
            let x = item.origin.x
            let y = item.origin.y
            svg.start(
                "g",
                [
                    ("class", "legend-entry s\(item.entry % palette.series.count)"),
                    ("data-series", entry.label.identifier),
                ])
            if item.shortened {
                svg.element("title", [], text: entry.text)
            }
            svg.element(
                "path",
                [
                    ("class", "legend-line"), ("d", "M\(c(x)),\(c(y))h\(c(FigureLayout.legendSample))"),
                    ("stroke", color), ("stroke-width", "2"), ("fill", "none"),
                ])
            svg.element(
                "path",
                [
                    ("class", "legend-marker"),
                    (
                        "d",
                        MarkerShape.forSeries(item.entry).path(
                            x: x + FigureLayout.legendSample / 2, y: y, radius: PanelRenderer.markerRadius)
                    ),
                    ("fill", color),
                ])
            svg.element(
                "text",
                [
                    ("x", c(x + FigureLayout.legendSample + FigureLayout.legendGap)), ("y", c(y + 4)),
                    ("fill", palette.foreground),
                ],
                text: item.text)
            svg.end()
        }
        svg.end()
    }
}
