import Foundation

/// One benchmark result, printed as
/// `figure-name: value unit (target: T, reference: R, ratio: x)`.
struct Figure {
    var name: String
    var value: Double
    var unit: String
    /// What the figure should reach, in words: "≥ 0.6x numpy".
    var target: String
    /// The reference measured in the same run, with its own label: "265.0 GFLOP/s numpy".
    var reference: Double
    var referenceLabel: String

    var ratio: Double { reference > 0 ? value / reference : .nan }

    var line: String {
        "\(name): \(Self.format(value)) \(unit) (target: \(target), reference: \(Self.format(reference)) \(referenceLabel), "
            + "ratio: \(String(format: "%.2f", ratio))x)"
    }

    func print() { Swift.print(line) }

    static func format(_ x: Double) -> String {
        x >= 100 ? String(format: "%.0f", x) : String(format: "%.2f", x)
    }
}
