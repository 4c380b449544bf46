/// One line: its points in x order (the renderer sorts them), each with an optional band.
public struct Series: Sendable, Equatable {
    public var label: SeriesLabel
    public var points: [DataPoint]

    public init(label: SeriesLabel, points: [DataPoint]) {
        self.label = label
        self.points = points
    }
}

/// One point of a series. Points whose coordinates are not finite (or not positive on a log axis) are
/// skipped and break the line there: a missing value is shown as a gap, never interpolated.
public struct DataPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// An interval around `y` (a confidence interval, or the spread of a group's seeds), drawn as a
    /// shaded band.
    public var band: Band?

    public init(x: Double, y: Double, band: Band? = nil) {
        self.x = x
        self.y = y
        self.band = band
    }
}

public struct Band: Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

/// What a series is, as ordered key/value attributes ({policy: sft, method: weighted, evaluator: verifier}).
/// Two series with equal labels are the same series (same colour and marker) in every panel of a figure.
/// The legend shows only the attributes whose values differ between series; the rest go to the subtitle.
public struct SeriesLabel: Sendable, Hashable {
    public var attributes: [Attribute]

    public init(_ attributes: [Attribute]) {
        self.attributes = attributes
    }

    /// A label made of ordered `(key, value)` pairs.
    public init(_ pairs: KeyValuePairs<String, String>) {
        self.attributes = pairs.map { Attribute(key: $0.key, value: $0.value) }
    }

    /// A series known by a name alone.
    public init(name: String) {
        self.attributes = [Attribute(key: "series", value: name)]
    }

    public func value(of key: String) -> String? {
        attributes.first { $0.key == key }?.value
    }

    /// "method=weighted, evaluator=verifier": unique per label, stable, for `data-series` attributes.
    public var identifier: String {
        attributes.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}

public struct Attribute: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
