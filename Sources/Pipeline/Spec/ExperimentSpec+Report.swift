public import Analysis

extension ExperimentSpec {
    /// What `compare` shows of a run of this spec by default, and the baseline its headline (`RunHeadline`) is
    /// about: the `report:` block's rows, else the default headline over the run's recorded rows `keys`.
    public func headlineRequest(recorded keys: [RowKey]) -> ComparisonRequest {
        report?.request ?? ComparisonRequest.defaultHeadline(for: keys)
    }

    /// `report:` — `rows` (row references), `baseline` (one), optionally `n`, and optionally `claims` (each
    /// `{name, row, versus}`). Every row must be one the spec records: a known policy, method, evaluator and
    /// aggregation, and an N it samples.
    static func readReport(_ map: MappingReader, spec: ExperimentSpec) -> ReportSpec {
        let n: Int? = map.value("n") == nil ? nil : map.int("n", default: spec.sampling.poolSize, in: 1...4096)
        if let n, !spec.sampling.n.contains(n) {
            map.report(
                "N = \(n) is not sampled; sampling.n is \(spec.sampling.n.map(String.init).joined(separator: ", "))",
                at: map.value("n"), key: "n")
        }
        // The row a reference names once `compare` fills in its N: greedy decoding's is 1, others take `n`, else the
        // largest N sampled. Two references to one row are one row, however they are spelled.
        func resolved(_ row: RowReference) -> RowReference {
            var row = row
            row.n = row.method == "greedy" ? 1 : row.n ?? n ?? spec.sampling.poolSize
            return row
        }
        var rows: [RowReference] = []
        if let items = map.list("rows") {
            if items.isEmpty { map.report("name at least one headline row", at: map.value("rows"), key: "rows") }
            for (index, item) in items.enumerated() {
                let path = "\(map.childPath("rows"))[\(index)]"
                guard let row = readRow(item, path: path, spec: spec, map: map) else { continue }
                if rows.contains(where: { resolved($0) == resolved(row) }) {
                    map.diagnostics.report("the row \(resolved(row)) is already a headline row", at: item, path: path)
                }
                rows.append(row)
            }
        } else {
            map.report(
                "missing required key 'rows' (the headline rows, e.g. [sft/majority, ppo/greedy])", at: nil, key: "rows"
            )
        }
        var baseline = RowReference(method: "majority")
        if let node = map.value("baseline") {
            baseline = readRow(node, path: map.childPath("baseline"), spec: spec, map: map) ?? baseline
        } else {
            map.report("missing required key 'baseline' (e.g. sft/majority)", at: nil, key: "baseline")
        }
        var claims: [Claim] = []
        for (index, item) in (map.list("claims") ?? []).enumerated() {
            let path = "\(map.childPath("claims"))[\(index)]"
            let claim = MappingReader(item, path: path, diagnostics: map.diagnostics)
            let name = claim.requiredString("name")
            let row = claim.value("row").flatMap { readRow($0, path: claim.childPath("row"), spec: spec, map: map) }
            let versus = claim.value("versus").flatMap {
                readRow($0, path: claim.childPath("versus"), spec: spec, map: map)
            }
            if claim.value("row") == nil { claim.report("missing required key 'row'", at: item, key: "row") }
            if claim.value("versus") == nil { claim.report("missing required key 'versus'", at: item, key: "versus") }
            if let row, let versus, resolved(row) == resolved(versus) {
                claim.report(
                    "a claim compares two different rows; both name \(resolved(row))", at: claim.value("versus"),
                    key: "versus")
            }
            if claims.contains(where: { $0.name == name }) {
                claim.report("another claim is named '\(name)'", at: claim.value("name"), key: "name")
            }
            claim.finish()
            if let row, let versus, !name.isEmpty { claims.append(Claim(name: name, row: row, versus: versus)) }
        }
        map.finish()
        return ReportSpec(rows: rows, baseline: baseline, n: n, claims: claims)
    }

    private static func readRow(
        _ node: YAMLNode, path: String, spec: ExperimentSpec, map: MappingReader
    )
        -> RowReference?
    {
        guard case .scalar(let text, _) = node.value else {
            map.diagnostics.report(
                "expected a row such as sft/weighted/verifier/prod, found \(node.kindName)", at: node, path: path)
            return nil
        }
        let row: RowReference
        do {
            row = try RowReference(parsing: text)
        } catch {
            map.diagnostics.report(error.message, at: node, path: path)
            return nil
        }
        if let problem = problem(with: row, in: spec) {
            map.diagnostics.report("row '\(text)': \(problem)", at: node, path: path)
            return nil
        }
        return row
    }

    /// Why `row` is not one this spec records, or nil.
    private static func problem(with row: RowReference, in spec: ExperimentSpec) -> String? {
        func unknown(_ what: String, _ value: String, among names: [String]) -> String {
            let message = "unknown \(what) '\(value)'"
            if let close = Suggestion.closest(to: value, among: names) {
                return message + " — did you mean '\(close)'?"
            }
            // An empty list would read as a truncated message; say that there is nothing to name instead.
            guard !names.isEmpty else { return message + " — this spec declares no \(what) that fits here" }
            return message + " — expected one of: \(names.joined(separator: ", "))"
        }
        // Greedy rows exist for every generator (the SFT policy, generative verifiers, RL policies); majority rows
        // for the SFT policy, the generative verifiers and the reranked generators; every pool row for the SFT
        // policy and the reranked generators (`rerank.generators`), whose pools easy-trained evaluators rerank.
        let reranked = ["sft"] + spec.rerank.generators
        let voters = Self.unique(reranked + spec.evaluators.filter { $0.kind == .generative }.map(\.name))
        var policies = voters
        if spec.policy.selection.scoresBestControl { policies.append(SFTStage.bestControl) }
        if spec.policy.ceiling { policies.append(SFTStage.ceilingPolicy) }
        policies += spec.rl.trainedPPO.map(\.policyName)
        policies += spec.rl.restEm.policyNames + spec.rl.dpo.policyNames
        if !policies.contains(row.policy), spec.rl.ppo.contains(where: { $0.policyName == row.policy }) {
            return "the PPO variant '\(row.policy)' trains nothing (enabled: false or iterations: 0), so it records no "
                + "rows"
        }
        guard policies.contains(row.policy) else { return unknown("policy", row.policy, among: Self.unique(policies)) }
        if let n = row.n, !spec.sampling.n.contains(n), row.method != "greedy" {
            return "N = \(n) is not sampled; sampling.n is \(spec.sampling.n.map(String.init).joined(separator: ", "))"
        }
        switch row.method {
        case "weighted", "best_of_n":
            guard reranked.contains(row.policy) else {
                return "only the SFT policy's pools and those of rerank.generators are reranked by evaluators"
            }
            guard spec.rerank.methods.map(\.rawValue).contains(row.method) else {
                return "rerank.methods does not include \(row.method)"
            }
            // Other generators' pools are reranked by the easy-trained evaluators only.
            let evaluators = spec.evaluators.filter { row.policy == "sft" || $0.labels == .easy }.map(\.name)
            guard evaluators.contains(row.evaluator) else {
                return unknown("evaluator", row.evaluator, among: evaluators)
            }
            let aggregations = spec.rerank.aggregations.map(\.rawValue)
            guard aggregations.contains(row.aggregation) else {
                return unknown("aggregation", row.aggregation, among: aggregations)
            }
            if row.aggregation == StepAggregation.final.rawValue,
                let kind = spec.evaluators.first(where: { $0.name == row.evaluator })?.kind, !kind.readsFinalToken
            {
                return
                    "'\(row.evaluator)' (\(kind.rawValue)) has no final-token reading; only orm and oprm evaluators do"
            }
        case "greedy", "majority", "likelihood", "pass":
            guard row.evaluator == "none" && row.aggregation == "none" else {
                return
                    "\(row.method) uses no evaluator: write \(row.policy == "sft" ? "" : row.policy + "/")\(row.method)"
            }
            guard row.method != "pass" || reranked.contains(row.policy) else {
                return "pass@N is recorded for \(reranked.joined(separator: ", ")) only"
            }
            if row.method == RerankMethod.likelihood.rawValue {
                guard reranked.contains(row.policy) else {
                    return "likelihood voting is recorded for \(reranked.joined(separator: ", ")) only"
                }
                guard spec.rerank.methods.contains(.likelihood) else {
                    return "rerank.methods does not include likelihood"
                }
            }
            guard row.method != "majority" || voters.contains(row.policy) else {
                return "majority voting is recorded for \(voters.joined(separator: ", ")) only"
            }
            guard row.method != "greedy" || row.n == nil || row.n == 1 else { return "greedy decoding has N = 1" }
        default:
            return "unknown method '\(row.method)'"
        }
        return nil
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
