/// Writes SVG markup, one element per line, escaping every attribute value and every text node.
/// Attributes keep the order they are given in, so the same figure is always the same bytes.
struct SVGWriter {
    private(set) var text = ""
    private var open: [String] = []

    mutating func start(_ name: String, _ attributes: [(String, String)] = []) {
        text += "<\(name)\(Self.attributes(attributes))>\n"
        open.append(name)
    }

    mutating func end() {
        text += "</\(open.removeLast())>\n"
    }

    /// An element without children.
    mutating func element(_ name: String, _ attributes: [(String, String)]) {
        text += "<\(name)\(Self.attributes(attributes))/>\n"
    }

    /// An element holding only text.
    mutating func element(_ name: String, _ attributes: [(String, String)], text content: String) {
        text += "<\(name)\(Self.attributes(attributes))>\(XMLText.escape(content))</\(name)>\n"
    }

    /// Text that is already markup-free by construction (the compiled-in stylesheet).
    mutating func raw(_ markup: String) {
        text += markup
    }

    var finished: String {
        precondition(open.isEmpty, "unclosed SVG elements: \(open)")
        return text
    }

    private static func attributes(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(XMLText.escape($0.1))\"" }.joined()
    }
}
