/// Tick labels: as short as the step allows and exact for every tick.
enum TickLabel {
    static func linear(_ value: Double, step: TickStep, format: TickFormat) -> String {
        // Steps finer than 10^-9 (a degenerate axis) get the shortest round-trip text instead of decimals.
        switch format {
        case .number:
            guard step.decimals <= 9 else { return value == 0 ? "0" : value.description }
            return DecimalText.format(value, maximumDecimals: step.decimals)
        case .percent:
            guard step.decimals <= 11 else { return (value == 0 ? "0" : (value * 100).description) + "%" }
            return DecimalText.format(value * 100, maximumDecimals: max(0, step.decimals - 2)) + "%"
        case .compact:
            // Each tick picks its own unit, so 0, 500, 1k, 1.5k read naturally; the decimals are those
            // the step needs in that unit.
            let (divisor, suffix, exponent) = unit(for: value)
            let decimals = max(0, exponent - (step.exponent))
            return DecimalText.format(value / divisor, maximumDecimals: min(decimals, 9)) + suffix
        }
    }

    /// 2^exponent: plain for the counts a log-2 axis usually shows (1/16 … 65536), else 2 with a superscript.
    static func powerOfTwo(_ exponent: Int, format: TickFormat) -> String {
        let value = exp2(exponent)
        if format == .percent, (-10...10).contains(exponent) {
            return DecimalText.format(value * 100, maximumDecimals: 9) + "%"
        }
        if (-4...16).contains(exponent) {
            return DecimalText.format(value, maximumDecimals: 4)
        }
        return "2" + superscript(exponent)
    }

    private static func exp2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<abs(exponent) { value *= 2 }
        return exponent >= 0 ? value : 1 / value
    }

    private static func unit(for value: Double) -> (divisor: Double, suffix: String, exponent: Int) {
        switch abs(value) {
        case 1e9...: return (1e9, "G", 9)
        case 1e6...: return (1e6, "M", 6)
        case 1e3...: return (1e3, "k", 3)
        default: return (1, "", 0)
        }
    }

    private static func superscript(_ number: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let text = String(number.magnitude).map { digits[Int(String($0))!] }
        return (number < 0 ? "⁻" : "") + String(text)
    }
}
