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
        // Digits of |integer|, least significant first; then the point and the sign, reversed at the end.
        var magnitude = integer.magnitude
        var reversed: [UInt8] = []
        reversed.reserveCapacity(24)
        var position = 0
        var significant = false
        while magnitude > 0 || position <= maximumDecimals {
            let digit = UInt8(magnitude % 10)
            magnitude /= 10
            if position < maximumDecimals {
                // Trailing zeros of the fraction are dropped, and with them a point left bare.
                if digit != 0 || significant {
                    reversed.append(UInt8(ascii: "0") + digit)
                    significant = true
                }
            } else {
                if position == maximumDecimals && significant { reversed.append(UInt8(ascii: ".")) }
                reversed.append(UInt8(ascii: "0") + digit)
            }
            position += 1
        }
        if integer < 0 { reversed.append(UInt8(ascii: "-")) }
        return String(decoding: reversed.reversed(), as: UTF8.self)
    }

    /// A coordinate in SVG user units: two decimals are a hundredth of a pixel, finer than any screen.
    static func coordinate(_ value: Double) -> String {
        format(value, maximumDecimals: 2)
    }
}
