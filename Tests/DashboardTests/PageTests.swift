import Charts
import Testing

@testable import Dashboard

private let hostile = #"<script>alert("x")</script> & 'n'"#

private func page() -> String {
    let figure = Figure(
        title: hostile,
        panels: [
            LineChart(
                title: hostile, xAxis: Axis(label: "step"), yAxis: Axis(label: "loss"),
                series: [
                    Series(
                        label: SeriesLabel(name: hostile), points: [DataPoint(x: 1, y: 2), DataPoint(x: 2, y: 1)])
                ])
        ])
    let main: HTML = """
        <p class="muted">\(hostile)</p>
        \(HTML.chart(figure, id: "curves"))
        """
    return Page(
        title: hostile,
        navigation: [
            Page.Link(label: "Runs", path: "/runs", isCurrent: true),
            Page.Link(label: hostile, path: URLPath.make("runs", hostile)),
        ],
        main: main, scripts: ["/assets/live.js"]
    ).render()
}

@Test func aPageIsWellFormedAndShowsUserTextAsText() throws {
    let markup = page()
    let document = try XHTMLDocument(markup)
    #expect(document.all("title").first?.text == "\(hostile) · e2h")
    #expect(document.all("h1").first?.text == hostile)
    #expect(document.all("p").first?.text == hostile)
    #expect(
        document.all("a").contains { $0.text == hostile && $0.attributes["href"]?.hasPrefix("/runs/%3Cscript") == true }
    )
    // The only script element is the one the page asked for, by URL.
    #expect(document.all("script").map { $0.attributes["src"] } == ["/assets/live.js"])
    #expect(document.all("script").allSatisfy { $0.text.isEmpty })
}

@Test func aPageNeedsNothingTheContentSecurityPolicyForbids() throws {
    let document = try XHTMLDocument(page())
    #expect(document.all("style").isEmpty)
    #expect(document.elements.allSatisfy { $0.attributes["style"] == nil })
    #expect(document.elements.allSatisfy { element in !element.attributes.keys.contains { $0.hasPrefix("on") } })
    #expect(document.all("link").map { $0.attributes["href"] } == [Page.stylesheetPath])
    #expect(document.all("svg").count == 1)
    #expect(document.all("clipPath").allSatisfy { $0.attributes["id"]?.hasPrefix("curves-") == true })
    #expect(!SecurityHeaders.contentSecurityPolicy.contains("unsafe"))
    #expect(SecurityHeaders.contentSecurityPolicy.contains("script-src 'self'"))
    #expect(SecurityHeaders.contentSecurityPolicy.contains("style-src 'self'"))
}

@Test func theStylesheetCarriesTheChartRulesAndADarkScheme() {
    #expect(DashboardStylesheet.css.contains(ChartStylesheet.css(.adaptive)))
    #expect(DashboardStylesheet.css.contains("@media (prefers-color-scheme: dark){:root{"))
    #expect(!DashboardStylesheet.css.contains("@import"))
    #expect(!DashboardStylesheet.css.contains("url("))
}

@Test func aSignedInPageOffersSignOutAsAFormWithTheSessionsToken() throws {
    var signedIn = Page(title: "Runs", main: "<p>x</p>\n")
    #expect(try XHTMLDocument(signedIn.render()).all("form").isEmpty)
    signedIn.signOutToken = String(repeating: "ab", count: 32)
    let document = try XHTMLDocument(signedIn.render())
    let form = try #require(document.all("form").first)
    #expect(document.all("form").count == 1)
    #expect(form.attributes["method"] == "post" && form.attributes["action"] == ActionForm.signOutPath)
    #expect(
        document.all("input").map { [$0.attributes["name"], $0.attributes["value"]] } == [
            [ActionForm.tokenField, signedIn.signOutToken]
        ])
    #expect(document.all("button").map(\.text) == ["Sign out"])
}
