/// Where everything of a figure goes: the header, the grid of panels, and the legend's rows below them.
struct FigureLayout {
    struct Point: Equatable {
        var x: Double
        var y: Double
    }

    struct PanelFrame {
        var origin: Point
        var size: PanelSize
    }

    /// One legend entry: its index in the plan and where its line sample starts (left end, centre line).
    struct LegendItem {
        var entry: Int
        var origin: Point
        var text: String
        /// True when `text` was shortened to fit; the full text then goes into a tooltip.
        var shortened: Bool
    }

    static let padding = 12.0
    /// A system font stack: the SVG must render offline and wherever it is copied, so no web fonts.
    static let fontFamily = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
    static let legendSample = 26.0
    static let legendGap = 6.0
    static let legendSpacing = 18.0
    static let legendRow = 20.0

    let width: Double
    let height: Double
    let subtitleParts: [String]
    let panelFrames: [PanelFrame]
    /// Baseline of the legend heading, when the legend has one.
    let legendHeading: Point?
    let legendItems: [LegendItem]

    init(_ figure: Figure, legend: LegendPlan) {
        let padding = Self.padding
        subtitleParts = (figure.subtitle.map { [$0] } ?? []) + legend.shared
        let columns = max(1, min(figure.columns, figure.panels.count))
        let rows = (figure.panels.count + columns - 1) / columns
        width = 2 * padding + Double(columns) * figure.panelSize.width
        let headerHeight = subtitleParts.isEmpty ? 34.0 : 52.0
        panelFrames = figure.panels.indices.map { index in
            PanelFrame(
                origin: Point(
                    x: padding + Double(index % columns) * figure.panelSize.width,
                    y: headerHeight + Double(index / columns) * figure.panelSize.height),
                size: figure.panelSize)
        }
        var y = headerHeight + Double(rows) * figure.panelSize.height + 8
        if legend.heading != nil {
            legendHeading = Point(x: padding, y: y + 12)
            y += 18
        } else {
            legendHeading = nil
        }
        let available = width - 2 * padding
        let textMaximum = available - Self.legendSample - Self.legendGap
        var items: [LegendItem] = []
        var x = padding
        for (index, entry) in legend.entries.enumerated() {
            let text = TextWidth.fit(entry.text, fontSize: 12, maximum: textMaximum)
            let itemWidth = Self.legendSample + Self.legendGap + TextWidth.estimate(text, fontSize: 12)
            if x > padding && x + itemWidth > padding + available {
                x = padding
                y += Self.legendRow
            }
            items.append(
                LegendItem(entry: index, origin: Point(x: x, y: y + 9), text: text, shortened: text != entry.text))
            x += itemWidth + Self.legendSpacing
        }
        legendItems = items
        height = (items.isEmpty ? y : y + Self.legendRow) + padding - 4
    }
}
