import Foundation

/// A "nice" distance between linear ticks: 1, 2 or 5 times a power of ten.
///
/// Tick values are computed as `k × mantissa ÷ 10^-exponent` from the integer `k`, never by adding the step
/// up repeatedly, so 0.1 + 0.2 never turns a tick into 0.30000000000000004.
struct TickStep: Equatable {
    var mantissa: Int
    var exponent: Int

    /// The smallest nice step that cuts `span` into at most about `target` intervals.
    init(span: Double, target: Int) {
        precondition(span > 0 && span.isFinite, "a tick step needs a positive, finite span")
        let raw = span / Double(target)
        var exponent = Int(log10(raw).rounded(.down))
        var mantissa = 10
        for candidate in [1, 2, 5, 10] where Double(candidate) * Self.power(exponent) >= raw * (1 - 1e-9) {
            mantissa = candidate
            break
        }
        if mantissa == 10 {
            mantissa = 1
            exponent += 1
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
