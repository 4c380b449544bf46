import Foundation

/// A run this daemon claimed: every write of the attempt is conditional on `token` (fencing).
struct Lease: Sendable {
    let run: String
    let token: Int64
    let attempt: Int
    let owner: String
    /// The spec as recorded at submission (canonical JSON).
    let canonicalSpec: Data
}

/// How an attempt ended, as the queue records it.
enum AttemptEnding: Sendable {
    case completed(summary: String)
    /// Stopped for a daemon shutdown: back to the queue at once, not counted as a failure.
    case interrupted(reason: String)
    case cancelled
    /// An error: counted; retried with backoff until max attempts, then failed.
    case failed(reason: String)
}

enum HeartbeatResult: Sendable {
    case renewed(cancelRequested: Bool)
    /// The lease expired or another attempt holds the run: stop and write nothing more.
    case lost
}
