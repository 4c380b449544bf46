/// Numbers as text, the same on every machine and in every locale: rounded half away from zero to at
/// most a fixed number of decimals, trailing zeros dropped, never an exponent, never "-0". Golden SVG
/// files compare byte for byte, so no formatting here may depend on the platform's printf or locale.
enum DecimalText {
    static func format(_ value: Double, maximumDecimals: Int) -> String {
        precondition(value.isFinite, "only finite numbers are formatted")
        precondition((0...9).contains(maximumDecimals), "between 0 and 9 decimals")
        var scale = 1.0
        for _ in 0..<maximumDecimals { scale *= 10 }
        let scaled = (value * scale).rounded(.toNearestOrAwayFromZero)
        // Beyond 2^53 a Double has no fractional digits left to print; its shortest round-trip
        // description is deterministic too.
        guard abs(scaled) < 9.0e15 else { return value.description }
        let integer = Int64(scaled)
        if integer == 0 { return "0" }
        var digits = String(integer.magnitude)
        if maximumDecimals > 0 {
            if digits.count <= maximumDecimals {
                digits = String(repeating: "0", count: maximumDecimals - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -maximumDecimals))
            while digits.last == "0" { digits.removeLast() }
            if digits.last == "." { digits.removeLast() }
        }
        return integer < 0 ? "-" + digits : digits
    }

    /// A coordinate in SVG user units: two decimals are a hundredth of a pixel, finer than any screen.
    static func coordinate(_ value: Double) -> String {
        format(value, maximumDecimals: 2)
    }
}
