/// URL paths built from values the user chose (run ids, group names), so a link can never leave its path
/// segment: everything but RFC 3986's unreserved characters is percent-encoded, `/`, `?`, `#` and `:`
/// included.
public enum URLPath {
    public static func component(_ value: String) -> String {
        var encoded = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                encoded += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
            }
        }
        return encoded
    }

    /// "/" followed by the components, each encoded: `URLPath.make("runs", id)`.
    public static func make(_ components: String...) -> String {
        "/" + components.map(component).joined(separator: "/")
    }
}
