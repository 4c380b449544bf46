import Foundation
import WireTypes

/// A run this daemon claimed: every write of the attempt is conditional on `token` (fencing).
public struct Lease: Sendable, Equatable {
    public let run: String
    let token: Int64
    let attempt: Int
    let owner: String
    /// The spec the attempt executes: canonical JSON, from the run's `RunSubmitted`.
    let canonicalSpec: Data
    /// For a replay job: the run to re-execute and compare with.
    let replayOf: String?
    /// What executes the attempt, as its `RunClaimed` recorded it.
    let provenance: Provenance?
}

enum HeartbeatResult: Sendable, Equatable {
    case renewed(cancelRequested: Bool)
    /// The lease expired or another attempt holds the run: stop and write nothing more.
    case lost
}
