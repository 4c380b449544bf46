import Foundation

/// A point of a hash chain: how many events it covers (a run's version, the log's position) and the hash there.
public struct ChainHead: Codable, Sendable, Equatable {
    public var length: Int64
    /// Lowercase hex SHA-256.
    public var hash: String

    public init(length: Int64, hash: String) {
        self.length = length
        self.hash = hash
    }
}

/// What a receipt asserts: the head of a run's chain and of the whole log at the time it was made. The signature
/// covers the canonical JSON of exactly this.
public struct ReceiptClaim: Codable, Sendable, Equatable {
    public static let currentFormat = "e2h-receipt/1"

    public var format: String
    /// The run, and its chain's head; both nil in a daemon's witness of the whole log.
    public var run: String?
    public var runHead: ChainHead?
    public var logHead: ChainHead
    /// ISO 8601, UTC.
    public var issuedAt: String

    public init(format: String = currentFormat, run: String?, runHead: ChainHead?, logHead: ChainHead, issuedAt: String)
    {
        self.format = format
        self.run = run
        self.runHead = runHead
        self.logHead = logHead
        self.issuedAt = issuedAt
    }
}

/// `GET /v1/runs/{id}/receipt` (`e2h receipt RUN`): a claim signed (Ed25519) with a key that lives in the issuing
/// daemon's state directory, never in the database — so nobody who holds only the database can make one, and a
/// log shortened or rewritten after it was made no longer matches it.
public struct SignedReceipt: Codable, Sendable, Equatable {
    public var claim: ReceiptClaim
    /// The first 16 hex digits of SHA-256(public key): which daemon's key signed.
    public var keyId: String
    /// Raw Ed25519 public key, hex.
    public var publicKey: String
    /// Ed25519 signature of the claim's canonical JSON, hex.
    public var signature: String

    public init(claim: ReceiptClaim, keyId: String, publicKey: String, signature: String) {
        self.claim = claim
        self.keyId = keyId
        self.publicKey = publicKey
        self.signature = signature
    }
}

/// `POST /v1/runs/{id}/verify` with a receipt: the run's chain and the log, against what the receipt signed.
public struct ReceiptVerification: Codable, Sendable, Equatable {
    public var run: String
    public var intact: Bool
    /// What does not hold, each in words that say what was done to the data; empty when intact.
    public var problems: [String]
    /// The run's and the log's current heads.
    public var runHead: ChainHead?
    public var logHead: ChainHead?

    public init(run: String, intact: Bool, problems: [String], runHead: ChainHead?, logHead: ChainHead?) {
        self.run = run
        self.intact = intact
        self.problems = problems
        self.runHead = runHead
        self.logHead = logHead
    }
}

/// `GET /v1/verify` (`e2h verify --all`): every stream's chain, the global chain over all of them, and the log
/// against the last head this daemon witnessed and signed.
public struct LogVerifyReport: Codable, Sendable, Equatable {
    public var intact: Bool
    public var events: Int64
    public var streams: Int
    public var logHead: ChainHead
    /// The last witnessed head this check compared with (nil before the daemon witnessed anything).
    public var witnessed: ChainHead?
    public var witnessedAt: String?
    public var problems: [String]

    public init(
        intact: Bool, events: Int64, streams: Int, logHead: ChainHead, witnessed: ChainHead?, witnessedAt: String?,
        problems: [String]
    ) {
        self.intact = intact
        self.events = events
        self.streams = streams
        self.logHead = logHead
        self.witnessed = witnessed
        self.witnessedAt = witnessedAt
        self.problems = problems
    }
}
