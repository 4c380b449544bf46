/// One axis of a panel: what it measures, how values map to positions, and how ticks are labelled.
public struct Axis: Sendable, Equatable {
    public var label: String
    /// Shown after the label in parentheses: "time (s)".
    public var unit: String?
    public var scale: AxisScale
    public var domain: AxisDomain
    public var tickFormat: TickFormat

    public init(
        label: String, unit: String? = nil, scale: AxisScale = .linear, domain: AxisDomain = .automatic(),
        tickFormat: TickFormat = .number
    ) {
        self.label = label
        self.unit = unit
        self.scale = scale
        self.domain = domain
        self.tickFormat = tickFormat
    }

    /// "label (unit)", or the label alone.
    var title: String {
        guard let unit, !unit.isEmpty else { return label }
        return label.isEmpty ? unit : "\(label) (\(unit))"
    }
}

public enum AxisScale: Sendable, Equatable {
    case linear
    /// Positions proportional to log2(value), ticks at powers of two: for sample counts N = 1, 2, 4, … 256.
    /// Values that are not positive cannot be placed and are skipped.
    case log2
}

public enum AxisDomain: Sendable, Equatable {
    /// From the data, widened to "nice" tick values; `includingZero` also widens a linear axis to 0
    /// (for quantities, such as accuracy, whose distance from zero matters).
    case automatic(includingZero: Bool = false)
    /// Exactly this range; points outside are clipped.
    case fixed(lower: Double, upper: Double)
}

public enum TickFormat: Sendable, Equatable {
    /// Plain decimals, as many as the tick step needs: 0.25, 0.5, 0.75.
    case number
    /// A fraction shown as a percentage: 0.25 → "25%".
    case percent
    /// Thousands and millions shortened: 1200 → "1.2k", 3000000 → "3M".
    case compact
}
