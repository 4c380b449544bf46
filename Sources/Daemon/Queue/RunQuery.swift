import Analysis
import EventStore
import Pipeline
import RunBundle
import WireTypes

/// `e2h runs --where 'tag:baseline and status in (completed, failed) and spec.policy.sft.steps >= 400'`: parsed once
/// (the one `--where` grammar, `FilterParser`), then evaluated by PostgreSQL as one boolean expression over the
/// `runs` table, the run's recorded canonical spec (its `RunSubmitted`) and its tags (its annotation stream's last
/// `TagsChanged`), so a listing never moves runs to the client to filter them.
struct RunQuery {
    enum Field: FilterField {
        /// `kind`: `run`, or `replay` for a replay job (which has its original's name and spec, and no scores).
        case status, name, tag, kind
        /// A path into the canonical spec's JSON.
        case spec([String])

        init?(filterName: String) {
            switch filterName {
            case "status", "state": self = .status
            case "name": self = .name
            case "tag": self = .tag
            case "kind": self = .kind
            default:
                guard filterName.hasPrefix("spec."),
                    let path = try? SpecOverride.jsonPath(String(filterName.dropFirst("spec.".count)))
                else { return nil }
                self = .spec(path)
            }
        }

        static let filterNames = ["status", "name", "tag", "kind", "spec.<path>"]

        var filterKind: FilterValueKind {
            if case .spec = self { return .either }
            return .text
        }
    }

    let condition: FilterCondition<Field>

    /// Every one of `conditions` that is given (true when none is).
    init(all conditions: [FilterCondition<Field>?]) {
        condition = .all(conditions.compactMap { $0 })
    }

    init(parsing text: String) throws {
        do {
            condition = try FilterParser<Field>.parse(text)
        } catch {
            // The parser lists the fields itself for an unknown name it has nothing close to.
            let fields = "fields: " + Field.filterNames.joined(separator: ", ")
            throw DaemonError(
                .badRequest, error.message.contains(fields) ? error.message : "\(error.message) (\(fields))")
        }
        try Self.checkStates(condition)
    }

    /// The condition as SQL over `runs`, its parameters numbered from `$firstParameter`.
    func sql(firstParameter: Int) -> (text: String, parameters: [PostgresValue]) {
        var parameters: [PostgresValue] = []
        func parameter(_ value: PostgresValue) -> String {
            parameters.append(value)
            return "$\(firstParameter + parameters.count - 1)"
        }
        func render(_ condition: FilterCondition<Field>) -> String {
            switch condition {
            case .all(let parts):
                return parts.isEmpty ? "true" : "(" + parts.map(render).joined(separator: " AND ") + ")"
            case .any(let parts):
                return parts.isEmpty ? "false" : "(" + parts.map(render).joined(separator: " OR ") + ")"
            case .member(let field, let values): return render(.any(values.map { .compare(field, .equal, $0) }))
            case .compare(let field, let op, let value):
                switch (field, value) {
                case (.status, .text(let text)): return "runs.state \(op.rawValue) \(parameter(.text(text)))::text"
                case (.name, .text(let text)): return "runs.name \(op.rawValue) \(parameter(.text(text)))::text"
                case (.kind, .text(let text)):
                    let replay = "(runs.replay_of IS NOT NULL)"
                    return (text == "replay") == (op == .equal) ? replay : "(NOT \(replay))"
                case (.tag, .text(let text)):
                    let tags = """
                        COALESCE(e2h_latest_payload(
                            \(parameter(.text(RunStreams.annotationPrefix)))::text || runs.id,
                            \(parameter(.text(AnnotationEvent.TagsChanged.eventType)))::text) -> 'tags', '[]'::jsonb)
                        """
                    let has = "\(tags) ? \(parameter(.text(text)))::text"
                    return op == .equal ? "(\(has))" : "NOT (\(has))"
                case (.spec(let path), _):
                    let spec = Self.recordedSpec(streamPrefix: parameter(.text(DaemonEvent.stream(""))))
                    let at = "\(parameter(.textArray(path)))::text[]"
                    switch value {
                    case .number(let number):
                        // CASE, not AND: PostgreSQL may evaluate AND's sides in any order, and the cast fails on text.
                        return """
                            (CASE WHEN jsonb_typeof(\(spec) #> \(at)) = 'number'
                            THEN (\(spec) #>> \(at))::numeric \(op.rawValue) \(parameter(.text("\(number)")))::numeric
                            ELSE false END)
                            """
                    case .text(let text):
                        return "((\(spec) #>> \(at)) \(op.rawValue) \(parameter(.text(text)))::text)"
                    }
                case (.status, .number), (.name, .number), (.tag, .number), (.kind, .number):
                    return "false"  // unreachable: these fields parse every value as text
                }
            }
        }
        let text = render(condition)
        return (text, parameters)
    }

    /// The run's recorded canonical spec as jsonb (its `RunSubmitted`), `streamPrefix` the SQL parameter holding
    /// `DaemonEvent.stream("")`; NULL for a legacy import whose spec is not JSON (daemon migration 0009), which a
    /// cast would turn into an error for the whole listing.
    static func recordedSpec(streamPrefix: String) -> String {
        "(CASE WHEN runs.spec_is_json "
            + "THEN (e2h_payload_at(\(streamPrefix)::text || runs.id, 1) ->> 'spec_json')::jsonb END)"
    }

    /// The `spec.<path>` fields the condition names, each once, in order.
    var specPaths: [[String]] {
        func paths(_ condition: FilterCondition<Field>) -> [[String]] {
            switch condition {
            case .all(let parts), .any(let parts): parts.flatMap(paths)
            case .member(.spec(let path), _), .compare(.spec(let path), _, _): [path]
            case .member, .compare: []
            }
        }
        var seen = Set<[String]>()
        return paths(condition).filter { seen.insert($0).inserted }
    }

    /// A JSON path as `--where` writes it: `spec.evaluators[0].kind`.
    static func display(_ path: [String]) -> String {
        path.reduce("spec") { text, step in Int(step) == nil ? "\(text).\(step)" : "\(text)[\(step)]" }
    }

    private static func checkStates(_ condition: FilterCondition<Field>) throws {
        switch condition {
        case .all(let parts), .any(let parts): for part in parts { try checkStates(part) }
        case .member(let field, let values): for value in values { try checkStates(.compare(field, .equal, value)) }
        case .compare(.status, _, .text(let text)) where RunState(rawValue: text) == nil:
            throw DaemonError(
                .badRequest,
                "--where: unknown status '\(text)': one of \(RunState.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        case .compare(.kind, let op, .text(let text)):
            guard op == .equal || op == .notEqual, ["run", "replay"].contains(text) else {
                throw DaemonError(.badRequest, "--where: kind is run or replay, compared with = or !=")
            }
        case .compare(.tag, let op, .text(let text)):
            if op != .equal && op != .notEqual { throw DaemonError(.badRequest, "--where: compare tags with = or !=") }
            do {
                _ = try AnnotateRequest(add: [text]).validated()
            } catch {
                throw DaemonError(.badRequest, "--where: \(error.message)")
            }
        case .compare: break
        }
    }
}
