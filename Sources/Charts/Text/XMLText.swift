/// Text made safe for XML character data and attribute values. Every string the user wrote (run names,
/// series names, units) passes through here: markup characters become entities, so `<script>` is shown as
/// text, and characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) become U+FFFD so the document
/// stays well-formed; DEL (U+007F), allowed by XML but forbidden in HTML text, too, so that the dashboard's
/// pages escape with this same function.
public enum XMLText {
    public static func escape(_ text: String) -> String {
        // Most values (path data, numbers, class names) need nothing; return them without copying.
        let clean = text.utf8.allSatisfy { byte in
            byte >= 0x20 && byte != UInt8(ascii: "&") && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
                && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") && byte != 0xEF && byte != 0x7F
        }
        if clean { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }
}
