import Testing

@testable import Dashboard

private let hostile = #"<script>alert("x")</script> & 'n'"#

@Test func interpolatedTextIsEscapedAndHTMLIsKept() {
    let name = hostile
    let cell: HTML = "<td>\(name)</td>"
    #expect(cell.markup == "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;n&#39;</td>")
    let row: HTML = "<tr>\(cell)\([HTML.text("a<b"), "<td>\(3)</td>"])</tr>"
    #expect(row.markup == "<tr>\(cell.markup)a&lt;b<td>3</td></tr>")
}

@Test func attributeValuesCannotBeBrokenOutOf() throws {
    let title = #"" onmouseover="alert(1)"#
    let link: HTML = "<a href=\"/runs\" title=\"\(title)\">x</a>"
    let document = try XHTMLDocument(link.markup)
    #expect(document.all("a").first?.attributes == ["href": "/runs", "title": title])
}

@Test func forbiddenCharactersAreReplaced() {
    #expect(HTML.escape("a\u{0}b\u{7F}c\td") == "a\u{FFFD}b\u{FFFD}c\td")
}

@Test func pathComponentsStayInTheirSegment() {
    #expect(URLPath.component("run 1/../?x=#é") == "run%201%2F..%2F%3Fx%3D%23%C3%A9")
    #expect(URLPath.make("runs", "javascript:alert(1)") == "/runs/javascript%3Aalert%281%29")
    #expect(URLPath.component("2026-12-01_a.b~c") == "2026-12-01_a.b~c")
}
