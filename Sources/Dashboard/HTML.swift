import Charts

/// A piece of HTML that is safe by construction: the literal parts are markup written in this code base,
/// and every `String` interpolated into it is escaped. Nothing the user wrote (run names, notes, spec text)
/// can become markup, because no public initializer takes a runtime string as markup.
///
/// Interpolated text is safe between tags and inside double-quoted attribute values. It is not made safe
/// for unquoted attributes, `<script>`/`<style>` contents or whole URLs (`javascript:`): the dashboard has
/// none of the first two, and builds URLs from escaped path components (`URLPath.component`).
public struct HTML: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public private(set) var markup: String

    public var description: String { markup }

    public init(stringLiteral value: StaticString) {
        markup = value.description
    }

    public init(stringInterpolation: StringInterpolation) {
        markup = stringInterpolation.markup
    }

    /// Markup made here from parts already escaped (a rendered chart); never from user input.
    init(trusted markup: String) {
        self.markup = markup
    }

    /// Text shown as text.
    public static func text(_ text: String) -> HTML {
        HTML(trusted: escape(text))
    }

    /// Pieces one after another.
    public init(joining pieces: [HTML]) {
        markup = pieces.map(\.markup).joined()
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var markup = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            markup += literal.description
        }

        /// Text, escaped.
        public mutating func appendInterpolation(_ text: String) {
            markup += HTML.escape(text)
        }

        public mutating func appendInterpolation(_ number: Int) {
            markup += String(number)
        }

        public mutating func appendInterpolation(_ html: HTML) {
            markup += html.markup
        }

        public mutating func appendInterpolation(_ pieces: [HTML]) {
            markup += pieces.map(\.markup).joined()
        }
    }

    /// The five characters that can end text or a quoted attribute value become entities; characters HTML
    /// and XML forbid become U+FFFD. One escaping for the charts and the pages (`XMLText`).
    public static func escape(_ text: String) -> String { XMLText.escape(text) }
}
