import Foundation

/// A "nice" distance between linear ticks: 1, 2 or 5 times a power of ten.
///
/// Tick values are computed as `k × mantissa ÷ 10^-exponent` from the integer `k`, never by adding the step
/// up repeatedly, so 0.1 + 0.2 never turns a tick into 0.30000000000000004.
struct TickStep: Equatable {
    var mantissa: Int
    var exponent: Int

    /// The nice step nearest to cutting `span` into `target` intervals. Thresholds at the geometric means
    /// between 1, 2, 5 and 10 (as d3 does) pick the closest step rather than the next larger one, which
    /// would often leave only two or three ticks.
    init(span: Double, target: Int) {
        precondition(span > 0 && span.isFinite, "a tick step needs a positive, finite span")
        let raw = span / Double(max(1, target))
        var exponent = Int(log10(raw).rounded(.down))
        let error = raw / Self.power(exponent)
        var mantissa: Int
        switch error {
        case 50.0.squareRoot()...:
            mantissa = 1
            exponent += 1
        case 10.0.squareRoot()...: mantissa = 5
        case 2.0.squareRoot()...: mantissa = 2
        default: mantissa = 1
        }
        self.mantissa = mantissa
        self.exponent = exponent
    }

    var value: Double { Double(mantissa) * Self.power(exponent) }

    /// The `k`-th multiple of the step.
    func multiple(_ k: Int) -> Double {
        exponent >= 0
            ? Double(k * mantissa) * Self.power(exponent)
            : Double(k * mantissa) / Self.power(-exponent)
    }

    /// The multiples of the step from `lower` to `upper` (with a tolerance for rounding), as indices `k`.
    func indices(from lower: Double, through upper: Double) -> ClosedRange<Int>? {
        let first = Int((lower / value - 1e-9).rounded(.up))
        let last = Int((upper / value + 1e-9).rounded(.down))
        return first <= last ? first...last : nil
    }

    /// Decimals needed to write every multiple of the step exactly.
    var decimals: Int { max(0, -exponent) }

    static func power(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent >= 0 ? result : 1 / result
    }
}
