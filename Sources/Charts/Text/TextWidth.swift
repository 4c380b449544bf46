/// An estimate of how wide text is drawn in a sans-serif system font, used to lay out margins and the
/// legend and to drop tick labels that would overlap. The SVG cannot measure text itself (it is written on
/// a server that has no fonts), so the estimate errs wide: a little spare room is better than clipping.
enum TextWidth {
    static func estimate(_ text: String, fontSize: Double) -> Double {
        var ems = 0.0
        for character in text {
            ems += width(of: character)
        }
        return ems * fontSize
    }

    /// `text` cut to fit `maximum`, ending in an ellipsis when cut.
    static func fit(_ text: String, fontSize: Double, maximum: Double) -> String {
        guard estimate(text, fontSize: fontSize) > maximum else { return text }
        var kept = ""
        var width = estimate("…", fontSize: fontSize)
        for character in text {
            width += self.width(of: character) * fontSize
            if width > maximum { break }
            kept.append(character)
        }
        return kept + "…"
    }

    private static func width(of character: Character) -> Double {
        switch character {
        case "i", "j", "l", "'", "|", "!", ".", ",", ":", ";": return 0.3
        case " ", "f", "r", "t", "(", ")", "[", "]", "-", "/": return 0.38
        case "m", "w", "%", "@", "—", "…": return 0.9
        case "0"..."9": return 0.58
        case "A"..."Z": return character == "M" || character == "W" ? 0.9 : 0.7
        default: return character.isASCII ? 0.58 : 1.0
        }
    }
}
