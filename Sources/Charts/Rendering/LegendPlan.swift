/// Which series a figure has and how the legend names them: by the attributes whose values differ
/// between series only. The attributes every series shares are said once, in the subtitle.
struct LegendPlan: Equatable {
    struct Entry: Equatable {
        var label: SeriesLabel
        /// The differing attributes' values, "weighted · verifier"; the whole label when nothing differs.
        var text: String
    }

    /// One entry per distinct series, in order of first appearance; an entry's index picks its colour
    /// and marker.
    var entries: [Entry]
    /// "method · evaluator": the keys the entries' texts are values of; nil when there is one series or
    /// the series are known by name alone.
    var heading: String?
    /// "policy: sft", one per attribute every series shares (none when there is one series, whose entry
    /// already names everything).
    var shared: [String]

    init(_ panels: [LineChart]) {
        var labels: [SeriesLabel] = []
        for panel in panels {
            for series in panel.series where !labels.contains(series.label) {
                labels.append(series.label)
            }
        }
        var keys: [String] = []
        for label in labels {
            for attribute in label.attributes where !keys.contains(attribute.key) {
                keys.append(attribute.key)
            }
        }
        let differing = keys.filter { key in
            let first = labels.first?.value(of: key)
            return labels.contains { $0.value(of: key) != first }
        }
        if labels.count < 2 || differing.isEmpty {
            entries = labels.map { label in
                Entry(label: label, text: label.attributes.map { Self.describe($0) }.joined(separator: " · "))
            }
            heading = nil
            shared = []
        } else {
            // A row without an evaluator says "none" twice ("verifier · greedy · none · none"); an absent part is
            // left out of its entry, as `compare` names such a row ("verifier/greedy").
            entries = labels.map { label in
                let values = differing.map { label.value(of: $0) ?? "–" }.filter { $0 != "none" }
                return Entry(label: label, text: values.joined(separator: " · "))
            }
            // Series known by name alone need no heading: "series" would say nothing.
            heading = differing == ["series"] ? nil : differing.joined(separator: " · ")
            shared = keys.filter { !differing.contains($0) }.compactMap { key in
                labels.first?.attributes.first { $0.key == key }.map { Self.describe($0) }
            }
        }
    }

    func index(of label: SeriesLabel) -> Int {
        entries.firstIndex { $0.label == label }!
    }

    /// "evaluator: verifier"; a series known by name alone is just its name.
    private static func describe(_ attribute: Attribute) -> String {
        attribute.key == "series" ? attribute.value : "\(attribute.key): \(attribute.value)"
    }
}
