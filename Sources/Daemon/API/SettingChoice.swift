import WireTypes

/// `select`'s rule, as a value: a group's members are taken by their setting of everything but the seed, each
/// setting is scored by the mean of its members' validation figures, and the highest mean wins (the first in sweep
/// order of equals). Seeds are aggregated, never picked: choosing the luckiest seed of a setting would make the
/// chosen run's figures optimistic, as choosing by a test row would. A member that has not recorded the figure
/// (yet) does not count, and the means are over the seeds that every scored setting has recorded, so settings are
/// compared on the same draws: a setting whose one finished seed is a lucky one does not beat another's three.
/// A setting none of whose members has recorded the figure is not scored.
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
        func seed(_ candidate: SelectionResponse.Candidate) -> String {
            candidate.settings.first { $0.path == "seed" }?.value ?? ""
        }
        let recordedSeeds = order.map { Set(members[$0]!.filter { $0.value != nil }.map(seed)) }.filter { !$0.isEmpty }
        let common = recordedSeeds.dropFirst().reduce(recordedSeeds.first ?? []) { $0.intersection($1) }
        settings = order.map { setting in
            let runs = members[setting]!
            let values = runs.filter { common.contains(seed($0)) }.compactMap(\.value)
            return SelectionResponse.Setting(
                settings: setting, runs: runs.map(\.run),
                mean: values.isEmpty ? nil : values.reduce(0, +) / Double(values.count), recorded: values.count)
        }
    }

    /// The setting with the largest mean, or nil when no seed has the figure recorded by every scored setting.
    var chosen: SelectionResponse.Setting? {
        settings.reduce(nil) { best, next in
            guard let mean = next.mean else { return best }
            guard let best, let bestMean = best.mean else { return next }
            return mean > bestMean ? next : best
        }
    }
}
