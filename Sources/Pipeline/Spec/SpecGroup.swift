/// A group of runs from one spec: every combination of the sweep's values, each with every seed.
///
/// The sweep comes from the spec's `sweep:` block and from the command line (`--seeds`, `--set`, which
/// replace the block's seeds and the block's values for the same path). Each member is the spec's YAML
/// with the member's values written in, then parsed and validated like any spec, so a member is an
/// ordinary run with its own canonical spec and hash. Nothing is queued unless every member is valid.
public struct SpecGroup: Sendable {
    public struct Member: Sendable {
        public var spec: ExperimentSpec
        /// The member's values, in sweep order (the seed last): `policy.sft.learning_rate=0.001 seed=2`.
        public var settings: [(path: String, value: String)]

        public var label: String { settings.map { "\($0.path)=\($0.value)" }.joined(separator: " ") }
    }

    /// Without `--max-runs`, larger groups are refused: they are more likely a typo than an experiment.
    public static let defaultMaximumRuns = 1000
    /// The most runs `--max-runs` (or a sweep's `max_runs`) may allow: a group is queued in one transaction.
    public static let maximumRunsLimit = 1_000_000
    /// The most spec paths one group may vary (`--set` and the sweep block's `set` together).
    public static let maximumSettings = 100

    public var members: [Member]

    /// Expands `yaml`'s sweep (with the command line's additions) into validated member specs.
    public static func expand(
        yaml: String, file: String, seeds: SeedRange? = nil, overrides: [SpecOverride] = [], maximumRuns: Int? = nil
    ) throws -> SpecGroup {
        try expand(
            yaml: yaml, file: file, seeds: seeds, overrides: overrides, maximumRuns: maximumRuns, usingSweep: true)
    }

    /// A recorded run's spec again, with edits (`e2h submit --from RUN`): `yaml` as the run recorded it with
    /// `overrides` written in (`cloneOverrides`: the run's own sweep values and the edits), each with every seed of
    /// `seeds`. The spec's `sweep:` block is not expanded again, so without edits the clone is the run's spec
    /// exactly (the same canonical hash).
    public static func clone(
        yaml: String, file: String, overrides: [SpecOverride], seeds: SeedRange?, maximumRuns: Int?
    ) throws -> SpecGroup {
        try expand(
            yaml: yaml, file: file, seeds: seeds, overrides: overrides, maximumRuns: maximumRuns, usingSweep: false)
    }

    /// The values a clone writes into the recorded YAML before `seeds`: the run's own, less those the edits or the
    /// seeds replace, then the edits. What a clone's record keeps so that it reproduces the clone.
    public static func cloneOverrides(
        settings: [(path: String, value: String)], edits: [SpecOverride], seeds: SeedRange?
    ) -> [SpecOverride] {
        let recorded = settings.filter { setting in
            !edits.contains { $0.path == setting.path } && !(seeds != nil && setting.path == "seed")
        }
        return recorded.map { SpecOverride(path: $0.path, values: [$0.value]) } + edits
    }

    private static func expand(
        yaml: String, file: String, seeds: SeedRange?, overrides: [SpecOverride], maximumRuns: Int?, usingSweep: Bool
    ) throws -> SpecGroup {
        guard let document = try ExperimentSpec.readDocument(yaml, file: file),
            case .mapping(var pairs) = document.value
        else {
            return SpecGroup(members: [Member(spec: try ExperimentSpec.parse(yaml: yaml, file: file), settings: [])])
        }
        // The sweep block, read strictly, then removed: members are single runs.
        var sweep = Sweep()
        if let index = pairs.firstIndex(where: { $0.key.scalarText == "sweep" }) {
            if usingSweep { sweep = try readSweep(pairs[index].value, file: file) }
            pairs.remove(at: index)
        }
        let root = YAMLNode(
            value: .mapping(pairs), line: document.line, column: document.column, weight: document.weight)
        var axes = sweep.overrides.filter { own in !overrides.contains { $0.path == own.path } } + overrides
        let seedRange = seeds ?? sweep.seeds?.range
        try checkSettings(axes, seeds: seeds != nil ? "--seeds" : sweep.seeds.map { "sweep.seeds (\($0.position))" })
        let maximum = maximumRuns ?? sweep.maximum ?? defaultMaximumRuns
        guard (1...maximumRunsLimit).contains(maximum) else {
            throw PipelineError(
                code: .invalidSpec,
                message: "--max-runs \(maximum) is out of range: a group has 1 to \(maximumRunsLimit) runs")
        }
        // Counted before the seed axis is written out: a range such as 0..4000000000 is a few characters, and
        // its seeds would be gigabytes of text before the limit refused them.
        let sizes =
            axes.map { (path: $0.path, count: $0.values.count, text: String($0.values.count)) }
            + (seedRange.map { [(path: "seed", count: $0.count, text: $0.countText)] } ?? [])
        var count = 1
        for size in sizes.map(\.count) {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maximum else {
                throw PipelineError(
                    code: .invalidSpec,
                    message: "the group has more than \(maximum) runs ("
                        + sizes.map { "\($0.text) × \($0.path)" }.joined(separator: ", ")
                        + "); raise the limit with --max-runs if you mean it")
            }
            count = product
        }
        if let seedRange { axes.append(SpecOverride(path: "seed", values: seedRange.seeds.map(String.init))) }
        let values = try axes.map { axis in
            try axis.values.map { text in try overrideNode(text, path: axis.path) }
        }
        var members: [Member] = []
        var problems: [SpecDiagnostic] = []
        for combination in cartesianProduct(axes.map(\.values.count)) {
            var tree = root
            var settings: [(path: String, value: String)] = []
            for (axis, choice) in zip(axes.indices, combination) {
                try tree.set(values[axis][choice], at: try SpecOverride.segments(axes[axis].path), for: axes[axis])
                settings.append((axes[axis].path, axes[axis].values[choice]))
            }
            do {
                members.append(Member(spec: try ExperimentSpec.parse(document: tree, file: file), settings: settings))
            } catch let error as PipelineError where error.code == .invalidSpec {
                // A problem at a written-in value (line 0) is where that value was written: the command line's
                // `--set`, or the sweep block's key; say which value of the sweep caused it.
                for var diagnostic in error.diagnostics {
                    if diagnostic.line == 0,
                        let (axis, choice) = zip(axes, combination).first(where: { axis, _ in
                            diagnostic.keyPath.hasPrefix(axis.path) || axis.path.hasPrefix(diagnostic.keyPath)
                        })
                    {
                        let value = axis.values[choice]
                        switch axis.origin {
                        case .commandLine:
                            diagnostic.file = "--set \(axis.path)=\(value)"
                            (diagnostic.line, diagnostic.column) = (1, 1)
                        case .sweep(let sweepFile, let line, let column):
                            (diagnostic.file, diagnostic.line, diagnostic.column) = (sweepFile, line, column)
                            diagnostic.message += " (the sweep's value \(value))"
                        }
                    }
                    if !problems.contains(diagnostic) { problems.append(diagnostic) }
                }
            }
        }
        guard problems.isEmpty else {
            throw PipelineError(
                code: .invalidSpec,
                message: "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s") in the group's specs",
                diagnostics: problems)
        }
        // Two members of one canonical spec would be one run twice, and `compare` and `select` would count it as
        // two seeds: values that read alike (1e-3 and 0.001, a default written out) are one value.
        var firstOfSpec: [String: Member] = [:]
        for member in members {
            if let first = firstOfSpec.updateValue(member, forKey: member.spec.canonicalHash) {
                throw SpecOverride.invalid(
                    "members '\(first.label)' and '\(member.label)' are the same run (their specs are equal once "
                        + "canonical): give each value once")
            }
        }
        return SpecGroup(members: members)
    }

    /// Every index tuple of the axes, the first axis outermost (so a setting's seeds are adjacent).
    static func cartesianProduct(_ sizes: [Int]) -> [[Int]] {
        sizes.reduce([[]]) { partial, size in partial.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
    }

    /// Each path once (a second `--set` of a path would overwrite the first in every member while both named it),
    /// never the sweep block itself, the seed by a seed range (`seeds`: where it was given) or by a setting, not
    /// both, and at most `maximumSettings` paths: each is written into every member, and 80,000 generated ones held
    /// e2hd's core for two minutes before it refused them.
    private static func checkSettings(_ axes: [SpecOverride], seeds: String?) throws {
        guard axes.count <= maximumSettings else {
            throw SpecOverride.invalid(
                "the group sets \(axes.count) spec paths (--set and the sweep's set together); at most "
                    + "\(maximumSettings) may vary in one group")
        }
        var paths = Set<String>()
        for axis in axes {
            guard paths.insert(axis.path).inserted else {
                throw SpecOverride.invalid(
                    "--set \(axis.path) is given twice; give its values in one: --set \(axis.path)=v1,v2")
            }
            if try SpecOverride.segments(axis.path).first == .key("sweep") {
                throw axis.refusal(
                    "a group's members are single runs, so none has a sweep block to set; give seeds with --seeds "
                        + "and values with --set")
            }
            if let seeds, axis.path == "seed" {
                throw SpecOverride.invalid("the seed is set by \(seeds) and by \(axis.source); use one of them")
            }
        }
    }

    /// A value as a YAML node, marked as coming from the command line (line 0).
    private static func overrideNode(_ text: String, path: String) throws -> YAMLNode {
        let parsed: YAMLNode?
        do {
            parsed = try YAMLReader().read(text)
        } catch {
            throw PipelineError(
                code: .invalidSpec, message: "--set \(path)=\(text): not a YAML value (\(error.message))")
        }
        return (parsed ?? YAMLNode(value: .scalar("", plain: true), line: 0, column: 0, weight: 1)).relocated()
    }

    /// The spec's `sweep:` block, read.
    private struct Sweep {
        var seeds: (range: SeedRange, position: String)?
        var overrides: [SpecOverride] = []
        var maximum: Int?
    }

    /// `sweep:` — `seeds` (a..b or one seed), `set` (path: value or list of values), `max_runs`. Each problem is
    /// reported at its key, as any other in the spec.
    private static func readSweep(_ node: YAMLNode, file: String) throws -> Sweep {
        let diagnostics = SpecDiagnostics(file: file)
        let map = MappingReader(node, path: "sweep", diagnostics: diagnostics)
        var sweep = Sweep()
        if let seedNode = map.value("seeds") {
            if case .scalar(let text, _) = seedNode.value {
                do {
                    sweep.seeds = (try SeedRange(parsing: text), "\(file):\(seedNode.line):\(seedNode.column)")
                } catch let error as PipelineError {
                    map.report(error.message, at: seedNode, key: "seeds")
                }
            } else {
                map.report("expected a seed range such as 0..4", at: seedNode, key: "seeds")
            }
        }
        if let setNode = map.value("set") {
            if case .mapping(let pairs) = setNode.value {
                for (key, value) in pairs {
                    let path = key.scalarText ?? ""
                    let texts: [String]
                    switch value.value {
                    case .sequence(let items): texts = items.map(\.flowText)
                    default: texts = [value.flowText]
                    }
                    let segments = try? SpecOverride.segments(path)
                    if segments == nil || texts.isEmpty {
                        diagnostics.report("expected a dotted path with a list of values", at: key, path: "sweep.set")
                    } else if sweep.overrides.contains(where: { $0.path == path }) {
                        diagnostics.report(
                            "'\(path)' is given twice; give its values in one list", at: key, path: "sweep.set")
                    } else if segments?.first == .key("sweep") {
                        diagnostics.report(
                            "the sweep cannot set itself: a group's members are single runs", at: key,
                            path: "sweep.set")
                    } else if path == "seed", sweep.seeds != nil {
                        diagnostics.report(
                            "the seed is also given by sweep.seeds; use one of them", at: key, path: "sweep.set")
                    } else {
                        sweep.overrides.append(
                            SpecOverride(
                                path: path, values: texts,
                                origin: .sweep(file: file, line: key.line, column: key.column)
                            ))
                    }
                }
            } else {
                map.report("expected a mapping of dotted paths to lists of values", at: setNode, key: "set")
            }
        }
        sweep.maximum =
            map.value("max_runs") == nil
            ? nil : map.int("max_runs", default: defaultMaximumRuns, in: 1...maximumRunsLimit)
        map.finish()
        if diagnostics.items.isEmpty, sweep.seeds == nil, sweep.overrides.isEmpty {
            diagnostics.report(
                "the sweep varies nothing: give it seeds (0..2) or set (path: [values]), or remove it", at: node,
                path: "sweep")
        }
        if !diagnostics.items.isEmpty { throw ExperimentSpec.invalid(diagnostics) }
        return sweep
    }
}

extension YAMLNode {
    var scalarText: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    /// The node as YAML flow text (a sweep value written in the spec, shown in member labels).
    var flowText: String {
        switch value {
        case .scalar(let text, _): text
        case .sequence(let items): "[" + items.map(\.flowText).joined(separator: ", ") + "]"
        case .mapping(let pairs):
            "{" + pairs.map { "\($0.key.flowText): \($0.value.flowText)" }.joined(separator: ", ") + "}"
        }
    }

    /// The same node with every position at line 0: diagnostics there belong to the command line.
    func relocated() -> YAMLNode {
        let moved: Value =
            switch value {
            case .scalar: value
            case .sequence(let items): .sequence(items.map { $0.relocated() })
            case .mapping(let pairs): .mapping(pairs.map { ($0.key.relocated(), $0.value.relocated()) })
            }
        return YAMLNode(value: moved, line: 0, column: 0, weight: weight)
    }

    /// Writes `node` at `segments` of `axis`'s path, creating missing mappings on the way.
    mutating func set(_ node: YAMLNode, at segments: [SpecOverride.Segment], for axis: SpecOverride) throws {
        guard let first = segments.first else {
            self = node
            return
        }
        let rest = Array(segments.dropFirst())
        switch (first, value) {
        case (.key(let key), .mapping(var pairs)):
            if let index = pairs.firstIndex(where: { $0.key.scalarText == key }) {
                try pairs[index].value.set(node, at: rest, for: axis)
            } else {
                if case .index = rest.first {
                    throw axis.refusal(
                        "[index] needs a list written in the spec, which has no '\(key)'; write the list to edit an item"
                    )
                }
                var child = YAMLNode(value: .mapping([]), line: 0, column: 0, weight: 1)
                try child.set(node, at: rest, for: axis)
                pairs.append((YAMLNode(value: .scalar(key, plain: true), line: 0, column: 0, weight: 1), child))
            }
            value = .mapping(pairs)
        case (.key(let key), .scalar(let text, true)) where MappingReader.isNull(text):
            // An empty section (`rl:` with nothing under it) takes the new key.
            value = .mapping([])
            try set(node, at: [.key(key)] + rest, for: axis)
        case (.index(let index), .sequence(var items)):
            guard index < items.count else {
                throw axis.refusal("the list has \(items.count) items; [\(index)] is beyond it")
            }
            try items[index].set(node, at: rest, for: axis)
            value = .sequence(items)
        case (.index, _):
            throw axis.refusal(
                "[index] needs a list written in the spec (found \(kindName)); write the list to edit an item")
        case (.key, _):
            throw axis.refusal("a key inside \(kindName), which has no keys")
        }
    }
}
