/// The skeleton every dashboard page shares: a document that works under `SecurityHeaders.contentSecurityPolicy`
/// (no inline script, no inline style, no `style` attribute; one same-origin stylesheet; scripts only as
/// same-origin files loaded with `defer`), and is also well-formed XML, so tests can parse it.
public struct Page: Sendable {
    public struct Link: Sendable, Equatable {
        public var label: String
        /// Same-origin path, built with `URLPath`.
        public var path: String
        public var isCurrent: Bool

        public init(label: String, path: String, isCurrent: Bool = false) {
            self.label = label
            self.path = path
            self.isCurrent = isCurrent
        }
    }

    public static let stylesheetPath = "/assets/dashboard.css"

    /// The document's title, also the page heading.
    public var title: String
    public var navigation: [Link]
    public var main: HTML
    /// Same-origin script paths ("/assets/live.js"), loaded with `defer`.
    public var scripts: [String]
    /// The session's CSRF token on a signed-in page, which then shows a sign-out button; nil on a page for a
    /// visitor without a session.
    public var signOutToken: String?

    public init(title: String, navigation: [Link] = [], main: HTML, scripts: [String] = []) {
        self.title = title
        self.navigation = navigation
        self.main = main
        self.scripts = scripts
    }

    public func render() -> String {
        let links = navigation.map { link -> HTML in
            link.isCurrent
                ? "<a href=\"\(link.path)\" aria-current=\"page\">\(link.label)</a>\n"
                : "<a href=\"\(link.path)\">\(link.label)</a>\n"
        }
        let signOut: HTML = signOutToken.map { ActionForm.signOut(csrfToken: $0) } ?? ""
        let scriptTags = scripts.map { path -> HTML in "<script src=\"\(path)\" defer=\"defer\"></script>\n" }
        let document: HTML = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <meta name="color-scheme" content="light dark"/>
            <title>\(title) · e2h</title>
            <link rel="stylesheet" href="\(Self.stylesheetPath)"/>
            \(scriptTags)</head>
            <body>
            <header class="site">
            <a class="brand" href="/">e2h</a>
            <nav>
            \(links)</nav>
            \(signOut)</header>
            <main>
            <h1>\(title)</h1>
            \(main)</main>
            </body>
            </html>

            """
        return document.markup
    }
}
