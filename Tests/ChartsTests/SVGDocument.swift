import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An SVG parsed back with Foundation's XMLParser: parsing proves the output well-formed, and the elements
/// let tests count what a browser test would find in the DOM.
struct SVGDocument {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text: String

        var classes: [Substring] { (attributes["class"] ?? "").split(separator: " ") }
    }

    var elements: [Element] = []

    init(_ svg: String) throws {
        let collector = Collector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw ParseFailure(description: parser.parserError.map { "\($0)" } ?? "unknown XML error")
        }
        elements = collector.elements
    }

    /// Elements whose class list includes every one of `classes`.
    func all(_ name: String, classes: String...) -> [Element] {
        elements.filter { element in
            element.name == name && classes.allSatisfy { element.classes.contains(Substring($0)) }
        }
    }

    var texts: [String] { elements.filter { $0.name == "text" || $0.name == "title" }.map(\.text) }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        private var open: [Int] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            open.append(elements.count)
            elements.append(Element(name: elementName, attributes: attributes, text: ""))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let index = open.last { elements[index].text += string }
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            open.removeLast()
        }
    }
}
