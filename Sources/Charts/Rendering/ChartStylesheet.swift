/// The CSS that colours charts, by class: the same text for every chart, so a page that shows several
/// (or a strict Content-Security-Policy that forbids inline `<style>`) can serve it once as a file.
///
/// Colours are CSS custom properties on `.e2h-chart` that a page may override; each rule first gives the
/// literal colour, for renderers without custom properties (librsvg), then `var()`, which wins where it
/// is understood. Every element also carries its light colour as a presentation attribute, the fallback
/// for viewers that ignore `<style>` altogether.
public enum ChartStylesheet {
    public static func css(_ scheme: ColorScheme = .adaptive) -> String {
        let base = Palette.base(of: scheme)
        var css = ".e2h-chart{\(variables(base))}\n"
        if scheme == .adaptive {
            css += "@media (prefers-color-scheme: dark){.e2h-chart{\(variables(.dark))}}\n"
        }
        let rules: [(selector: String, property: String, variable: String, light: String)] = [
            (".background", "fill", "bg", base.background),
            (".title,.panel-title,.axis-title,.legend-entry text,.empty", "fill", "fg", base.foreground),
            (".subtitle,.tick-label,.legend-heading", "fill", "muted", base.muted),
            (".axis-line,.tick", "stroke", "axis", base.axis),
            (".grid line", "stroke", "grid", base.grid),
        ]
        for rule in rules {
            css += rule.selector.split(separator: ",").map { ".e2h-chart \($0)" }.joined(separator: ",")
            css += "{\(rule.property):\(rule.light);\(rule.property):var(--e2h-\(rule.variable))}\n"
        }
        for index in base.series.indices {
            let color = base.series[index]
            let scope = ".e2h-chart .s\(index)"
            css += "\(scope) .series,\(scope) .legend-line{stroke:\(color);stroke:var(--e2h-s\(index))}\n"
            css += "\(scope) .markers,\(scope) .legend-marker,\(scope) .band"
            css += "{fill:\(color);fill:var(--e2h-s\(index))}\n"
        }
        return css
    }

    private static func variables(_ palette: Palette) -> String {
        var declarations = [
            "--e2h-bg:\(palette.background)", "--e2h-fg:\(palette.foreground)", "--e2h-muted:\(palette.muted)",
            "--e2h-axis:\(palette.axis)", "--e2h-grid:\(palette.grid)",
        ]
        for (index, color) in palette.series.enumerated() {
            declarations.append("--e2h-s\(index):\(color)")
        }
        return declarations.joined(separator: ";")
    }
}
