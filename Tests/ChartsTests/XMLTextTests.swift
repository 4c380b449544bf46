import Testing

@testable import Charts

@Test func markupCharactersBecomeEntities() {
    #expect(
        XMLText.escape(#"<script>alert("x" & 'y')</script>"#)
            == "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;")
}

@Test func charactersXMLForbidsAreReplaced() {
    #expect(XMLText.escape("a\u{0}b\u{1B}c\u{FFFE}") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}")
    #expect(XMLText.escape("tab\tnew\nline é ✓") == "tab\tnew\nline é ✓")
}
