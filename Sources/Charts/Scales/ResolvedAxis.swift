import Foundation

/// A tick mark: where it is and what it says.
struct Tick: Equatable {
    var value: Double
    var label: String
}

/// An axis resolved against the data it shows: its domain, its ticks, and where a value falls along it.
struct ResolvedAxis {
    let scale: AxisScale
    let lower: Double
    let upper: Double
    let ticks: [Tick]

    /// Narrower linear spans are treated as a constant: a quarter of them could underflow to zero.
    static let smallestSpan = 1e-200

    /// About this many intervals between linear ticks (from 3 to 7, by the nearest nice step).
    static let targetTickCount = 4

    /// `values` are the data on this axis; the ones that cannot be placed (not finite, not positive on a
    /// log axis) are ignored.
    init(_ axis: Axis, values: [Double]) {
        let placeable = values.filter { Self.canPlace($0, on: axis.scale) }
        scale = axis.scale
        switch axis.scale {
        case .linear:
            (lower, upper, ticks) = Self.linear(axis, placeable, Self.targetTickCount)
        case .log2:
            (lower, upper, ticks) = Self.logarithmic(axis, placeable)
        }
    }

    /// Values beyond ±1e300 are treated as infinite: the span between two of them could overflow, and a
    /// diverged loss must not take the dashboard down.
    static func canPlace(_ value: Double, on scale: AxisScale) -> Bool {
        abs(value) <= 1e300 && (scale == .linear || value > 0)
    }

    /// Where `value` lies between the domain's lower (0) and upper (1) end; nil when it cannot be placed.
    func fraction(_ value: Double) -> Double? {
        guard Self.canPlace(value, on: scale) else { return nil }
        switch scale {
        case .linear: return (value - lower) / (upper - lower)
        case .log2: return (log2(value) - log2(lower)) / (log2(upper) - log2(lower))
        }
    }

    private static func linear(_ axis: Axis, _ values: [Double], _ target: Int) -> (Double, Double, [Tick]) {
        if case .fixed(let lower, let upper) = axis.domain, canPlace(lower, on: .linear), canPlace(upper, on: .linear),
            upper - lower >= smallestSpan
        {
            let step = TickStep(span: upper - lower, target: target)
            return (lower, upper, ticks(step, lower, upper, axis.tickFormat))
        }
        var lower = values.min() ?? 0
        var upper = values.max() ?? 1
        if case .automatic(includingZero: true) = axis.domain {
            lower = min(lower, 0)
            upper = max(upper, 0)
        }
        if upper - lower < Self.smallestSpan {
            // A constant series: centre it in a range a tenth of its size (or ±1 around zero), so it is
            // drawn as a level line with readable ticks rather than a division by zero.
            let pad = abs(lower) < Self.smallestSpan ? 1 : abs(lower) / 10
            lower -= pad
            upper += pad
            if case .automatic(includingZero: true) = axis.domain, values.allSatisfy({ $0 >= 0 }) {
                lower = max(lower, 0)
            }
        }
        let step = TickStep(span: upper - lower, target: target)
        let first = Int((lower / step.value + 1e-9).rounded(.down))
        let last = Int((upper / step.value - 1e-9).rounded(.up))
        // min/max: where the data's magnitude dwarfs its span, rounding could leave a multiple inside it.
        let niceLower = min(step.multiple(first), lower)
        let niceUpper = max(step.multiple(max(last, first + 1)), upper)
        return (niceLower, niceUpper, ticks(step, niceLower, niceUpper, axis.tickFormat))
    }

    private static func ticks(_ step: TickStep, _ lower: Double, _ upper: Double, _ format: TickFormat) -> [Tick] {
        guard let indices = step.indices(from: lower, through: upper) else { return [] }
        return indices.map { k in
            let value = step.multiple(k)
            return Tick(value: value, label: TickLabel.linear(value, step: step, format: format))
        }
    }

    private static func logarithmic(_ axis: Axis, _ values: [Double]) -> (Double, Double, [Tick]) {
        if case .fixed(let lower, let upper) = axis.domain, canPlace(lower, on: .log2), canPlace(upper, on: .log2),
            lower < upper
        {
            let ticks = powers(Int(log2(lower).rounded(.up)), Int(log2(upper).rounded(.down)), axis.tickFormat)
            return (lower, upper, ticks)
        }
        var lowest = 0
        var highest = 1
        if let minimum = values.min(), let maximum = values.max() {
            // Subnormal values sit below 2^-1020 and are clipped: 2^-1075 would be zero.
            lowest = max(Int(log2(minimum).rounded(.down)), -1020)
            highest = max(Int(log2(maximum).rounded(.up)), lowest)
        }
        if lowest == highest {
            lowest -= 1
            highest += 1
        }
        return (exp2(Double(lowest)), exp2(Double(highest)), powers(lowest, highest, axis.tickFormat))
    }

    /// Powers of two from 2^lowest to 2^highest: every one while there are at most nine, else every
    /// second, fourth, … aligned to 2^0 so the labels stay 1, 4, 16, … rather than 2, 8, 32, ….
    private static func powers(_ lowest: Int, _ highest: Int, _ format: TickFormat) -> [Tick] {
        guard lowest <= highest else { return [] }
        var stride = 1
        while (highest - lowest) / stride + 1 > 9 { stride *= 2 }
        return (lowest...highest).filter { $0 % stride == 0 }.map { exponent in
            Tick(value: exp2(Double(exponent)), label: TickLabel.powerOfTwo(exponent, format: format))
        }
    }
}
