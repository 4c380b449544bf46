import Charts

extension HTML {
    /// A figure drawn inline. Its stylesheet is left out of the SVG (a page's Content-Security-Policy
    /// forbids inline styles); `DashboardStylesheet.css` carries it. `id` must be unique on the page: it
    /// prefixes the SVG's element ids.
    public static func chart(_ figure: Figure, id: String) -> HTML {
        let renderer = SVGRenderer(options: SVGRenderer.Options(embedsStylesheet: false, idPrefix: id))
        return HTML(trusted: "<figure class=\"chart\">\n\(renderer.render(figure))</figure>\n")
    }
}
