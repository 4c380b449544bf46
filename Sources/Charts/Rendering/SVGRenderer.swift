/// Draws figures as standalone SVG documents: the one renderer behind the dashboard's pages and
/// `e2h plot`. The output is a deterministic function of the figure and the options, byte for byte.
public struct SVGRenderer: Sendable {
    public struct Options: Sendable, Equatable {
        public var colorScheme: ColorScheme
        /// Whether the SVG carries its own `<style>`. A page whose Content-Security-Policy forbids inline
        /// styles leaves it out and serves `ChartStylesheet.css()` as a file instead.
        public var embedsStylesheet: Bool
        /// Starts every element id (clip paths), so several charts inlined in one page stay distinct.
        /// Characters other than ASCII letters, digits, `-` and `_` are dropped.
        public var idPrefix: String

        public init(colorScheme: ColorScheme = .adaptive, embedsStylesheet: Bool = true, idPrefix: String = "e2h") {
            self.colorScheme = colorScheme
            self.embedsStylesheet = embedsStylesheet
            self.idPrefix = idPrefix
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// A single chart as a figure of one panel, titled by the chart's title.
    public func render(_ chart: LineChart) -> String {
        var panel = chart
        panel.title = ""
        return render(Figure(title: chart.title, panels: [panel]))
    }

    public func render(_ figure: Figure) -> String {
        let palette = Palette.base(of: options.colorScheme)
        let legend = LegendPlan(figure.panels)
        let layout = FigureLayout(figure, legend: legend)
        let prefix = Self.sanitized(options.idPrefix)

        var svg = SVGWriter()
        svg.start(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("class", "e2h-chart"),
                ("width", DecimalText.coordinate(layout.width)), ("height", DecimalText.coordinate(layout.height)),
                ("viewBox", "0 0 \(DecimalText.coordinate(layout.width)) \(DecimalText.coordinate(layout.height))"),
                ("role", "img"), ("font-family", FigureLayout.fontFamily), ("font-size", "12"),
            ])
        svg.element("title", [], text: ([figure.title] + layout.subtitleParts).joined(separator: " — "))
        if options.embedsStylesheet {
            svg.start("style", [])
            svg.raw(ChartStylesheet.css(options.colorScheme))
            svg.end()
        }
        let panels = figure.panels.enumerated().map { index, chart in
            PanelRenderer(
                chart: chart, size: layout.panelFrames[index].size, legend: legend, palette: palette,
                clipID: "\(prefix)-clip\(index)")
        }
        svg.start("defs")
        for panel in panels {
            panel.writeClipPath(into: &svg)
        }
        svg.end()
        svg.element(
            "rect",
            [
                ("class", "background"), ("width", DecimalText.coordinate(layout.width)),
                ("height", DecimalText.coordinate(layout.height)), ("fill", palette.background),
            ])
        writeHeader(figure, layout, palette, into: &svg)
        for (index, panel) in panels.enumerated() {
            panel.write(index: index, at: layout.panelFrames[index].origin, into: &svg)
        }
        LegendRenderer(plan: legend, palette: palette, layout: layout).write(into: &svg)
        svg.end()
        return svg.finished
    }

    private func writeHeader(_ figure: Figure, _ layout: FigureLayout, _ palette: Palette, into svg: inout SVGWriter) {
        let maximum = layout.width - 2 * FigureLayout.padding
        svg.element(
            "text",
            [
                ("class", "title"), ("x", DecimalText.coordinate(FigureLayout.padding)), ("y", "24"),
                ("font-size", "16"), ("font-weight", "600"), ("fill", palette.foreground),
            ],
            text: TextWidth.fit(figure.title, fontSize: 16, maximum: maximum))
        if !layout.subtitleParts.isEmpty {
            svg.element(
                "text",
                [
                    ("class", "subtitle"), ("x", DecimalText.coordinate(FigureLayout.padding)), ("y", "42"),
                    ("fill", palette.muted),
                ],
                text: TextWidth.fit(layout.subtitleParts.joined(separator: " · "), fontSize: 12, maximum: maximum))
        }
    }

    private static func sanitized(_ prefix: String) -> String {
        let kept = prefix.unicodeScalars.filter {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
        }
        let text = String(String.UnicodeScalarView(kept))
        return text.first?.isLetter == true ? text : "e2h" + text
    }
}
