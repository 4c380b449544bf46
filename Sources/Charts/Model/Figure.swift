/// What the renderer draws: one or more line-chart panels under one title, sharing one legend.
///
/// Panels of a figure share their series' colours and markers (a series is identified by its label), so
/// "weighted · verifier" looks the same in the easy and the hard panel, and one legend serves all of them.
public struct Figure: Sendable, Equatable {
    public var title: String
    /// A caption under the title (a run's id, a group's name); the attributes every series shares are
    /// appended to it, since the legend names only what differs.
    public var subtitle: String?
    public var panels: [LineChart]
    /// Panels per row; rows are added as needed.
    public var columns: Int
    public var panelSize: PanelSize

    public init(
        title: String, subtitle: String? = nil, panels: [LineChart], columns: Int = 1,
        panelSize: PanelSize = PanelSize()
    ) {
        precondition(columns >= 1, "a figure needs at least one column")
        self.title = title
        self.subtitle = subtitle
        self.panels = panels
        self.columns = columns
        self.panelSize = panelSize
    }
}

/// The size of one panel in SVG user units (CSS pixels when the SVG is shown at its natural size).
public struct PanelSize: Sendable, Equatable {
    public var width: Double
    public var height: Double

    public init(width: Double = 480, height: Double = 300) {
        precondition(width >= 160 && height >= 120, "a panel smaller than 160x120 has no room for its axes")
        self.width = width
        self.height = height
    }
}

/// One panel: series drawn as lines over an x and a y axis.
public struct LineChart: Sendable, Equatable {
    /// The panel's heading ("easy", "loss"); may be empty when the figure has one panel.
    public var title: String
    public var xAxis: Axis
    public var yAxis: Axis
    /// Drawn in this order; a series' colour and marker follow its first appearance in the figure.
    public var series: [Series]

    public init(title: String, xAxis: Axis, yAxis: Axis, series: [Series]) {
        self.title = title
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
    }
}
