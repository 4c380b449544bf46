/// Which colours a chart is drawn in.
public enum ColorScheme: Sendable, Equatable {
    /// Light colours, switched to dark ones by `@media (prefers-color-scheme: dark)` where the viewer
    /// supports it (browsers); the default for the dashboard and for `e2h plot`.
    case adaptive
    case light
    case dark
}

/// The colours of one scheme. Series colours are the Okabe–Ito palette, chosen to stay distinguishable
/// for the common forms of colour blindness; its yellow is left out (unreadable on white) and its black
/// is the foreground colour. The dark scheme lightens each hue so it keeps its identity on a dark ground.
struct Palette: Equatable {
    var background: String
    var foreground: String
    /// Tick labels, subtitle, legend heading.
    var muted: String
    var axis: String
    var grid: String
    var series: [String]

    static let light = Palette(
        background: "#ffffff", foreground: "#1f2328", muted: "#57606a", axis: "#57606a", grid: "#d8dee4",
        series: ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#1f2328"])

    static let dark = Palette(
        background: "#0d1117", foreground: "#e6edf3", muted: "#9da7b3", axis: "#9da7b3", grid: "#30363d",
        series: ["#4ba6e8", "#f0803c", "#19c594", "#e59cc8", "#f5b82e", "#9ad3f5", "#e6edf3"])

    static func base(of scheme: ColorScheme) -> Palette {
        scheme == .dark ? .dark : .light
    }

    /// The colour of the series drawn `index`-th in a figure.
    func seriesColor(_ index: Int) -> String {
        series[index % series.count]
    }
}
