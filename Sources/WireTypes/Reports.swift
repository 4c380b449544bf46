import Foundation

/// `{"error": {"code", "message"}}`, the body of every failed request.
public struct ErrorEnvelope: Codable, Sendable {
    public struct Body: Codable, Sendable {
        public var code: String
        public var message: String
        /// Spec validation errors, each "file:line:column: keyPath: message".
        public var diagnostics: [String]?
        /// The id the daemon's log gives this request: details that are not for clients (database or
        /// file-system text) are logged under it.
        public var requestId: String?

        public init(code: String, message: String, diagnostics: [String]? = nil, requestId: String? = nil) {
            self.code = code
            self.message = message
            self.diagnostics = diagnostics
            self.requestId = requestId
        }
    }

    public var error: Body

    public init(code: String, message: String, diagnostics: [String]? = nil, requestId: String? = nil) {
        self.error = Body(code: code, message: message, diagnostics: diagnostics, requestId: requestId)
    }
}

/// `GET /v1/runs/{id}/verify`: the hash chain of the run's stream.
public struct VerifyReport: Codable, Sendable {
    public var run: String
    public var intact: Bool
    public var events: Int
    /// Where the chain breaks, when it does.
    public var brokenAtVersion: Int64?
    public var reason: String?
    /// The blobs the record names: stored, pruned or missing. A missing blob makes the run not intact.
    public var blobs: BlobVerification?

    public init(
        run: String, intact: Bool, events: Int, brokenAtVersion: Int64?, reason: String?,
        blobs: BlobVerification? = nil
    ) {
        self.run = run
        self.intact = intact
        self.events = events
        self.brokenAtVersion = brokenAtVersion
        self.reason = reason
        self.blobs = blobs
    }
}

/// `POST /v1/runs/{id}/replay`: the run re-executed from its recorded spec in a scratch recorder.
public struct ReplayReport: Codable, Sendable, Equatable {
    public struct Divergence: Codable, Sendable, Equatable {
        /// 1-based index among the run's pipeline events.
        public var index: Int
        public var eventType: String
        /// JSON path of the first differing field ("" when the event types or counts differ).
        public var field: String
        public var recorded: String
        public var replayed: String
        /// What produced each side: the attempt that recorded the differing event, and the replay's own attempt
        /// (nil where the record predates provenance).
        public var recordedProvenance: Provenance?
        public var replayedProvenance: Provenance?

        public init(
            index: Int, eventType: String, field: String, recorded: String, replayed: String,
            recordedProvenance: Provenance? = nil, replayedProvenance: Provenance? = nil
        ) {
            self.index = index
            self.eventType = eventType
            self.field = field
            self.recorded = recorded
            self.replayed = replayed
            self.recordedProvenance = recordedProvenance
            self.replayedProvenance = replayedProvenance
        }
    }

    public var run: String
    public var identical: Bool
    public var comparedEvents: Int
    public var divergence: Divergence?
    /// The replayed run's state when the verdict was made: a run that had not completed is compared only as far as
    /// its record went. Nil in verdicts of an e2h that did not record it.
    public var recordedState: RunState?

    public init(
        run: String, identical: Bool, comparedEvents: Int, divergence: Divergence?, recordedState: RunState? = nil
    ) {
        self.run = run
        self.identical = identical
        self.comparedEvents = comparedEvents
        self.divergence = divergence
        self.recordedState = recordedState
    }

    /// The verdict in a line, as the replay job's completion and `e2h replay` print it.
    public var summary: String {
        guard identical else { return "diverged at event \(divergence?.index ?? 0)" }
        if let recordedState, recordedState != .completed {
            return
                "identical over the \(comparedEvents) events the run had recorded; it was \(recordedState.rawValue), "
                + "not completed, so the rest of it was not compared"
        }
        return "identical (\(comparedEvents) events)"
    }
}

/// `POST /v1/compare`: scores of several runs side by side.
/// `POST /v1/compare`: which runs, and what to show of them.
public struct CompareRequest: Codable, Sendable {
    /// Run ids or unique prefixes. Several runs are read as seeds of one group.
    public var runs: [String]
    /// Every recorded row instead of the headline the spec named in advance.
    public var all: Bool
    /// The row every other row is compared with (`sft/majority`); absent: the spec's, or majority voting.
    public var baseline: String?
    /// The N of rows that name none; absent: the spec's, or each row's largest.
    public var n: Int?
    /// Each level on its own instead of easy, hard and all.
    public var eachLevel: Bool

    public init(runs: [String], all: Bool = false, baseline: String? = nil, n: Int? = nil, eachLevel: Bool = false) {
        self.runs = runs
        self.all = all
        self.baseline = baseline
        self.n = n
        self.eachLevel = eachLevel
    }
}

/// A canonical-spec field whose value differs between runs (values in `runs` order, JSON text).
public struct SpecDifference: Codable, Sendable, Equatable {
    public var path: String
    public var values: [String]

    public init(path: String, values: [String]) {
        self.path = path
        self.values = values
    }
}

/// The answer to `compare`: the rows with their intervals and differences, the runs they come from, how the
/// runs' specs differ, and what a reader must know before trusting the figures.
public struct CompareResponse: Codable, Sendable {
    public var runs: [RunDetails]
    public var report: ComparisonReport
    public var specDifferences: [SpecDifference]
    /// A record that does not verify, runs that differ in more than their seed, ...
    public var warnings: [String]
    /// Whether the headline's rows are the spec's `report:` block, named before the run (false: the default headline
    /// of a spec that names none, or every row); nil from a daemon that predates it.
    public var namedInAdvance: Bool?

    public init(
        runs: [RunDetails], report: ComparisonReport, specDifferences: [SpecDifference], warnings: [String],
        namedInAdvance: Bool? = nil
    ) {
        self.runs = runs
        self.report = report
        self.specDifferences = specDifferences
        self.warnings = warnings
        self.namedInAdvance = namedInAdvance
    }
}

/// `GET /v1/runs/{id}/export` / `POST /v1/import`: a run's whole record in one file.
public struct RunArchive: Codable, Sendable {
    public static let currentFormat = "e2h-run-archive/1"

    public struct Event: Codable, Sendable {
        public var version: Int64
        public var id: UUID
        public var type: String
        public var schemaVersion: Int
        /// Stored bytes, base64: the hash chain covers them verbatim.
        public var payload: Data
        public var metadata: Data
        public var hash: String
        public var previousHash: String

        public init(
            version: Int64, id: UUID, type: String, schemaVersion: Int, payload: Data, metadata: Data, hash: String,
            previousHash: String
        ) {
            self.version = version
            self.id = id
            self.type = type
            self.schemaVersion = schemaVersion
            self.payload = payload
            self.metadata = metadata
            self.hash = hash
            self.previousHash = previousHash
        }
    }

    public var format: String
    public var run: RunDetails
    public var specYAML: String
    public var canonicalSpec: Data
    public var events: [Event]
    /// SHA-256 hex → bytes, for every blob an event names.
    public var blobs: [String: Data]

    public init(
        run: RunDetails, specYAML: String, canonicalSpec: Data, events: [Event], blobs: [String: Data]
    ) {
        self.format = Self.currentFormat
        self.run = run
        self.specYAML = specYAML
        self.canonicalSpec = canonicalSpec
        self.events = events
        self.blobs = blobs
    }
}

/// The file the daemon writes into its state directory so the CLI finds it.
public struct DaemonEndpoint: Codable, Sendable {
    public var url: String
    public var pid: Int32

    public init(url: String, pid: Int32) {
        self.url = url
        self.pid = pid
    }
}

/// Shared by both sides so `e2h` and `e2hd` agree on where the state lives.
public enum StateDirectory {
    /// `$XDG_STATE_HOME/e2h`, else `~/.local/state/e2h`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty {
            return (xdg as NSString).appendingPathComponent("e2h")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/state/e2h")
    }

    public static let tokenFile = "token"
    public static let endpointFile = "daemon.json"
    /// The key that signs receipts and the log witness (mode 0600): the trust anchor of every receipt.
    public static let receiptKeyFile = "receipt-key"

    public static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    public static var jsonDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// `POST /v1/import` (`e2h import`): the imported run, what came with it, and what was done with its receipt.
public struct ImportReport: Codable, Sendable, Equatable {
    public enum ReceiptStatus: String, Codable, Sendable, Equatable {
        /// Signed by this daemon's key, and it matches the imported events.
        case verified
        /// Signed by another daemon's key: its claim matches the events, but only that daemon can check the signature.
        case signedByAnotherKey = "signed_by_another_key"
        /// The bundle carries no receipt (a JSON archive of an older e2h).
        case absent
    }

    public var run: RunDetails
    public var receipt: ReceiptStatus
    /// The receipt's outcome in words: which key signed, what was checked.
    public var receiptDetail: String
    public var blobs: Int
    public var metricPoints: Int
    public var annotationEvents: Int
    /// The bundle was made with `--scores-only`: checkpoints and sample sets were left out.
    public var scoresOnly: Bool

    public init(
        run: RunDetails, receipt: ReceiptStatus, receiptDetail: String, blobs: Int, metricPoints: Int,
        annotationEvents: Int, scoresOnly: Bool
    ) {
        self.run = run
        self.receipt = receipt
        self.receiptDetail = receiptDetail
        self.blobs = blobs
        self.metricPoints = metricPoints
        self.annotationEvents = annotationEvents
        self.scoresOnly = scoresOnly
    }
}
