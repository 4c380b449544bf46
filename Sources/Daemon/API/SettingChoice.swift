import WireTypes

/// `select`'s rule, as a value: a group's members are taken by their setting of everything but the seed, each
/// setting is scored by the mean of its members' validation figures, and the highest mean wins (the first in sweep
/// order of equals). Seeds are aggregated, never picked: choosing the luckiest seed of a setting would make the
/// chosen run's figures optimistic, as choosing by a test row would. A member that has not recorded the figure
/// (yet) does not count; a setting none of whose members has is not scored.
struct SettingChoice {
    let settings: [SelectionResponse.Setting]

    init(_ candidates: [SelectionResponse.Candidate]) {
        var order: [[GroupSetting]] = []
        var members: [[GroupSetting]: [SelectionResponse.Candidate]] = [:]
        for candidate in candidates {
            let setting = candidate.settings.filter { $0.path != "seed" }
            if members[setting] == nil { order.append(setting) }
            members[setting, default: []].append(candidate)
        }
        settings = order.map { setting in
            let runs = members[setting]!
            let values = runs.compactMap(\.value)
            return SelectionResponse.Setting(
                settings: setting, runs: runs.map(\.run),
                mean: values.isEmpty ? nil : values.reduce(0, +) / Double(values.count), recorded: values.count)
        }
    }

    /// The setting with the largest mean, or nil when no member has recorded the figure.
    var chosen: SelectionResponse.Setting? {
        settings.reduce(nil) { best, next in
            guard let mean = next.mean else { return best }
            guard let best, let bestMean = best.mean else { return next }
            return mean > bestMean ? next : best
        }
    }
}
