import Foundation

/// Which blobs a finished run keeps: `e2hd --retention`, or a spec's `retention:`.
public enum RetentionMode: String, Codable, Sendable, CaseIterable {
    /// Nothing is ever pruned.
    case keepAll = "keep-all"
    /// What a later stage, a resume or a score depends on is kept; the other checkpoints are pruned.
    case standard = "default"
}

/// A run's tombstone: the blobs its record names that it no longer holds. A blob is deleted once every run that
/// names it has released it, so a hash released here may still be stored because another run holds it.
public struct BlobsPruned: DaemonEventPayload {
    public static let type = DaemonEventType.blobsPruned
    /// SHA-256 (hex) of each released blob, in the order the record first names them.
    public var hashes: [String]
    /// The bytes this release freed (blobs no other run held), at the time of the release.
    public var freedBytes: Int64
    /// Why the run does not hold them: retention when absent (every tombstone before this field was one).
    public var cause: Cause?

    public enum Cause: String, Codable, Sendable {
        /// The run was imported from a `--scores-only` bundle, which left them out: they never were here, and the
        /// run cannot resume.
        case scoresOnlyImport = "scores-only-import"
    }

    public init(hashes: [String], freedBytes: Int64, cause: Cause? = nil) {
        self.hashes = hashes
        self.freedBytes = freedBytes
        self.cause = cause
    }
}

/// `POST /v1/gc`: prune every finished run by the daemon's retention policy, or only say what that would free.
public struct CollectRequest: Codable, Sendable, Equatable {
    public var dryRun: Bool

    public init(dryRun: Bool) { self.dryRun = dryRun }
}

/// What a collection released and freed, run by run.
public struct CollectReport: Codable, Sendable, Equatable {
    public struct Run: Codable, Sendable, Equatable {
        public var run: String
        public var name: String
        /// Blobs this run released now (its tombstone's length).
        public var releasedBlobs: Int
        /// Of those, the blobs no other run held, deleted now (or that a dry run would delete), and their bytes.
        public var freedBlobs: Int
        public var freedBytes: Int64
        /// What the run still occupies afterwards: the blobs its record names that stay stored, and its events.
        public var blobBytes: Int64
        public var eventBytes: Int64

        public init(
            run: String, name: String, releasedBlobs: Int, freedBlobs: Int, freedBytes: Int64, blobBytes: Int64,
            eventBytes: Int64
        ) {
            self.run = run
            self.name = name
            self.releasedBlobs = releasedBlobs
            self.freedBlobs = freedBlobs
            self.freedBytes = freedBytes
            self.blobBytes = blobBytes
            self.eventBytes = eventBytes
        }
    }

    public var dryRun: Bool
    public var retention: RetentionMode
    /// Every finished run, oldest first.
    public var runs: [Run]

    public init(dryRun: Bool, retention: RetentionMode, runs: [Run]) {
        self.dryRun = dryRun
        self.retention = retention
        self.runs = runs
    }

    public var freedBytes: Int64 { runs.reduce(0) { $0 + $1.freedBytes } }
}

/// `GET /v1/runs/{id}/verify`: the blobs the run's record names, each stored, released by a tombstone, or missing.
public struct BlobVerification: Codable, Sendable, Equatable {
    /// How many distinct blobs the record names, and how many of them are stored.
    public var named: Int
    public var stored: Int
    /// Released by the run's tombstones (and not stored): pruned by retention, not lost.
    public var pruned: [String]
    /// Never here: left out of the `--scores-only` bundle the run was imported from (absent from older daemons).
    public var leftOut: [String]?
    /// Neither stored nor released: lost.
    public var missing: [String]

    public init(named: Int, stored: Int, pruned: [String], leftOut: [String] = [], missing: [String]) {
        self.named = named
        self.stored = stored
        self.pruned = pruned
        self.leftOut = leftOut
        self.missing = missing
    }
}
