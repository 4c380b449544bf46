import Foundation
import Testing
import WireTypes

@testable import Daemon
@testable import Pipeline

/// The document's schemas against the `WireTypes` values e2hd encodes, without a daemon: each type is encoded with
/// every optional field set, and its JSON must have exactly the properties its schema names (so neither side has a
/// field the other lacks), with the required ones present and each value of the documented type, all the way
/// down. Responses a fuzzer rarely reaches (a group, a comparison with differences, a selection) are covered here.
@Suite("OpenAPI schemas against WireTypes")
struct OpenAPISchemaTests {
    static let date = Date(timeIntervalSince1970: 1_800_000_000)

    static let progress = RunProgress(
        stage: .sft, task: "policy", done: 3, total: 20, unit: "steps", loss: 0.5, ratePerSecond: 2.5)
    static let run = RunDetails(
        id: "8c3b2a9e-0000-4000-8000-000000000001", name: "smoke", state: .running, priority: 1, attempt: 2,
        failures: 1, maxAttempts: 3, specHash: "ab", leaseOwner: "host:1", cancelRequested: false, submittedAt: date,
        updatedAt: date, errors: ["killed"], progress: progress, eventCount: 9, replayOf: "r", group: "g",
        tags: ["baseline"],
        headline: RunHeadline(
            // `interval`: every optional field set, `sd` included.
            row: "sft/majority@4", accuracy: interval,
            claims: ClaimTally(holds: 3, notShown: 10, reversed: 1, familyHolds: 2)),
        leaseExpiresAt: date)
    static let head = ChainHead(length: 9, hash: "cd")
    static let interval = IntervalEstimate(
        mean: 0.5, lower: 0.4, upper: 0.6, method: .seedT, seeds: 3, sd: 0.1, problems: 30)
    static let group = GroupDetails(
        summary: GroupSummary(id: "g", name: "sweep", submittedAt: date, members: GroupStateCounts(states: [.queued])),
        members: [GroupMemberDetails(settings: [GroupSetting(path: "seed", value: "2")], run: run)])

    static let hook = Hook(
        id: "h", url: "http://127.0.0.1:9/hook", triggers: [.completed, .stalled], format: .slack, createdAt: date,
        delivered: 1, pending: 2, abandoned: 0, lastError: "refused")

    /// Each value e2hd answers with, and the schema that describes it.
    static var samples: [(schema: String, value: any Encodable)] {
        [
            ("RunDetails", run),
            ("RunList", RunList(runs: [run])),
            ("SubmitResponse", SubmitResponse(run: run, created: true)),
            (
                "EventPage",
                EventPage(
                    run: run,
                    events: [
                        WireEvent(
                            position: 1, version: 1, id: UUID(), type: "RunSubmitted", schemaVersion: 1,
                            payload: .object(["a": .number(1)]), metadata: .null, recordedAt: date, hash: "ef")
                    ], lastVersion: 1)
            ),
            ("GroupDetails", group),
            ("GroupList", GroupList(groups: [group.summary])),
            ("GroupSubmitResponse", GroupSubmitResponse(group: group, created: false)),
            (
                "SelectionResponse",
                SelectionResponse(
                    group: "g", row: "validation:sft/pass@1",
                    chosen: .init(settings: [GroupSetting(path: "a", value: "1")], runs: ["r"], mean: 0.5, recorded: 1),
                    settings: [
                        .init(settings: [GroupSetting(path: "a", value: "1")], runs: ["r"], mean: 0.5, recorded: 1),
                        .init(settings: [GroupSetting(path: "a", value: "2")], runs: ["q"], mean: 0.25, recorded: 1),
                    ],
                    candidates: [
                        .init(
                            run: "r",
                            settings: [GroupSetting(path: "a", value: "1"), GroupSetting(path: "seed", value: "1")],
                            value: 0.5),
                        .init(run: "q", settings: [GroupSetting(path: "a", value: "2")], value: 0.25),
                    ])
            ),
            ("Annotations", Annotations(tags: ["a"], notes: [.init(text: "n", recordedAt: date)])),
            (
                "RunMetrics",
                RunMetrics(
                    run: "r",
                    series: [MetricSeries(stage: "sft", model: "policy", metric: "loss", steps: [1], values: [0.5])])
            ),
            ("SignInLinkResponse", SignInLinkResponse(path: "/sign-in?n=1", expiresAt: date)),
            (
                "VerifyReport",
                VerifyReport(
                    run: "r", intact: false, events: 0, brokenAtVersion: 3, reason: "edited",
                    blobs: BlobVerification(named: 3, stored: 1, pruned: ["ab"], missing: ["cd"]))
            ),
            (
                "ImportReport",
                ImportReport(
                    run: run, receipt: .signedByAnotherKey, receiptDetail: "d", blobs: 2, metricPoints: 3,
                    annotationEvents: 1, scoresOnly: true)
            ),
            (
                "CollectReport",
                CollectReport(
                    dryRun: true, retention: .standard,
                    runs: [
                        .init(
                            run: "r", name: "n", releasedBlobs: 2, freedBlobs: 1, freedBytes: 10, blobBytes: 20,
                            eventBytes: 30)
                    ])
            ),
            (
                "ProvenanceList",
                ProvenanceList(
                    run: "r",
                    attempts: [
                        AttemptProvenance(
                            attempt: 1, worker: "host:1",
                            provenance: Provenance(
                                version: "0.1.0", commit: "abc", swift: "Swift 6.3", os: "Debian", kernel: "6.1",
                                cpu: "x", cpuFeatures: ["fma"], threads: 2, postgres: "17.2"))
                    ])
            ),
            ("HookCreated", HookCreated(hook: hook, secret: "s")),
            ("HookList", HookList(hooks: [hook])),
            (
                "SignedReceipt",
                SignedReceipt(
                    claim: ReceiptClaim(run: "r", runHead: head, logHead: head, issuedAt: "2027-01-15T08:00:00Z"),
                    keyId: "k", publicKey: "p", signature: "s")
            ),
            (
                "ReceiptVerification",
                ReceiptVerification(run: "r", intact: false, problems: ["cut"], runHead: head, logHead: head)
            ),
            (
                "LogVerifyReport",
                LogVerifyReport(
                    intact: true, events: 9, streams: 1, logHead: head, witnessed: head,
                    witnessedAt: "2027-01-15T08:00:00Z", problems: [])
            ),
            (
                "RunArchive",
                RunArchive(
                    run: run, specYAML: "name: x\n", canonicalSpec: Data("{}".utf8),
                    events: [
                        .init(
                            version: 1, id: UUID(), type: "RunSubmitted", schemaVersion: 1, payload: Data("{}".utf8),
                            metadata: Data("{}".utf8), hash: "ab", previousHash: "00")
                    ], blobs: ["ab": Data([1, 2])])
            ),
            (
                "CompareResponse",
                CompareResponse(
                    runs: [run],
                    report: ComparisonReport(
                        runs: ["r"], baseline: "sft/majority", resamples: 100, headline: true,
                        rows: [
                            ComparisonRow(
                                policy: "sft", method: "majority", evaluator: "-", aggregation: "-", n: 4,
                                levels: .hard, accuracy: interval, difference: interval, verdict: .notShown)
                        ],
                        claims: [
                            ClaimResult(
                                name: "c",
                                row: ComparisonRow(
                                    policy: "sft", method: "weighted", evaluator: "orm", aggregation: "final", n: 4,
                                    levels: .hard, accuracy: interval, difference: interval, verdict: .holds),
                                versus: "majority@4",
                                family: .init(claims: 3, difference: interval, verdict: .notShown))
                        ]),
                    specDifferences: [SpecDifference(path: "seed", values: ["1", "2"])], warnings: ["w"],
                    namedInAdvance: true)
            ),
            (
                "Error",
                ErrorEnvelope(
                    code: "invalid_spec", message: "m", diagnostics: ["s.yaml:1:1: seed: bad"], requestId: "1")
            ),
        ]
    }

    @Test func everyAnswerHasExactlyTheDocumentedShape() throws {
        let schemas = try DocumentSchemas()
        for (name, value) in Self.samples {
            let json = try JSONDecoder().decode(JSONValue.self, from: try StateDirectory.jsonEncoder.encode(value))
            let problems = try schemas.problems(json, against: schemas.named(name), at: name, exact: true)
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }

    /// The check itself can fail: a field the schema lacks, a required one missing, a value of another type.
    @Test func theShapeCheckFindsEachKindOfMismatch() throws {
        let schemas = try DocumentSchemas()
        let good = try JSONDecoder().decode(JSONValue.self, from: try StateDirectory.jsonEncoder.encode(Self.head))
        #expect(try schemas.problems(good, against: schemas.named("ChainHead"), at: "", exact: true).isEmpty)
        let mismatches: [[String: JSONValue]] = [
            ["length": .number(1), "hash": .string("a"), "extra": .number(1)], ["length": .number(1)],
            ["length": .string("1"), "hash": .string("a")], ["length": .number(1.5), "hash": .string("a")],
            ["length": .bool(true), "hash": .string("a")],
        ]
        for bad in mismatches.map(JSONValue.object) {
            #expect(!(try schemas.problems(bad, against: schemas.named("ChainHead"), at: "", exact: true).isEmpty))
        }
    }
}

/// The document's `components.schemas`, and a walk of a JSON value against one: enough of JSON Schema for the
/// shapes this document uses (objects with properties, arrays, scalar types, enums, `$ref`).
struct DocumentSchemas {
    let schemas: [String: YAMLNode]

    init() throws {
        let text = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        let root = try #require(try YAMLReader(limits: YAMLLimits(maximumBytes: 4 << 20)).read(text))
        let components = try #require(Self.value(root, "components"))
        let schemas = try #require(Self.value(components, "schemas"))
        self.schemas = Dictionary(
            OpenAPIDocumentTests.entries(of: schemas).map { ($0.key, $0.value) },
            uniquingKeysWith: { first, _ in first })
    }

    func named(_ name: String) throws -> YAMLNode { try #require(schemas[name], "no schema \(name)") }

    static func value(_ node: YAMLNode, _ key: String) -> YAMLNode? {
        OpenAPIDocumentTests.entries(of: node).first { $0.key == key }?.value
    }

    static func scalar(_ node: YAMLNode?) -> String? {
        guard let node, case .scalar(let text, _) = node.value else { return nil }
        return text
    }

    static func scalars(_ node: YAMLNode?) -> [String] {
        guard let node, case .sequence(let items) = node.value else { return [] }
        return items.compactMap { scalar($0) }
    }

    /// What does not match; with `exact`, every documented property must also be present.
    func problems(_ json: JSONValue, against schema: YAMLNode, at path: String, exact: Bool) throws -> [String] {
        if let reference = Self.scalar(Self.value(schema, "$ref")) {
            let name = String(reference.split(separator: "/").last ?? "")
            return try problems(json, against: try named(name), at: path, exact: exact)
        }
        var found: [String] = []
        let values = Self.scalars(Self.value(schema, "enum"))
        if !values.isEmpty, !values.contains(json.stringValue ?? "") {
            found.append("\(path): \(json) is not one of \(values)")
        }
        switch Self.scalar(Self.value(schema, "type")) {
        case "object":
            guard let object = json.objectValue else { return found + ["\(path): not an object"] }
            let properties = Self.value(schema, "properties").map(OpenAPIDocumentTests.entries(of:)) ?? []
            let documented = Set(properties.map(\.key))
            for key in Self.scalars(Self.value(schema, "required")) where object[key] == nil {
                found.append("\(path).\(key): required, missing")
            }
            let additional = Self.value(schema, "additionalProperties")
            let closed = Self.scalar(additional) == "false"
            // A map (`additionalProperties` is a schema, e.g. an archive's blobs) has keys of its own choosing.
            let map = additional != nil && Self.scalar(additional) == nil
            // `exact` holds a schema to what its type encodes even where requests may carry more.
            for key in object.keys.sorted() where (closed || (exact && !map)) && !documented.contains(key) {
                found.append("\(path).\(key): not in the schema")
            }
            for (key, property) in properties {
                guard let value = object[key] else {
                    if exact { found.append("\(path).\(key): documented, not encoded") }
                    continue
                }
                found += try problems(value, against: property, at: "\(path).\(key)", exact: exact)
            }
            if let additional, map {
                for key in object.keys.sorted() where !documented.contains(key) {
                    found += try problems(object[key]!, against: additional, at: "\(path).\(key)", exact: exact)
                }
            }
        case "array":
            guard let array = json.arrayValue else { return found + ["\(path): not an array"] }
            if let items = Self.value(schema, "items") {
                for (index, item) in array.enumerated() {
                    found += try problems(item, against: items, at: "\(path)[\(index)]", exact: exact)
                }
            }
        case "string":
            if json.stringValue == nil { found.append("\(path): not a string") }
        case "boolean":
            if case .bool = json {} else { found.append("\(path): not a boolean") }
        case "integer":
            if json.doubleValue.map({ $0 != $0.rounded() }) ?? true { found.append("\(path): not an integer") }
        case "number":
            if json.doubleValue == nil { found.append("\(path): not a number") }
        default:
            break  // no type: any JSON value (an event's payload)
        }
        return found
    }
}
