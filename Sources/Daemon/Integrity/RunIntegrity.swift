import EventStore
import Foundation
import WireTypes

/// Receipts and the checks against them: `e2h receipt`, `e2h verify RUN --receipt`, `e2h verify --all`. Observes
/// the database, then leaves every judgement to `ReceiptCheck`.
struct RunIntegrity: Sendable {
    let queue: Queue
    let witness: LogWitness

    var store: EventStore { queue.store }

    /// Signs the run's head and the log's head. Refused for a run whose chain does not verify, and when the log no
    /// longer extends what this daemon witnessed: a receipt must never vouch for tampered data.
    func receipt(_ run: String) async throws -> SignedReceipt {
        let stream = DaemonEvent.stream(run)
        if case .broken(let version, _, let reason) = try await store.verify(stream: stream) {
            throw DaemonError(
                .conflict,
                "run \(run)'s hash chain breaks at version \(version) (\(reason)); no receipt is issued for it")
        }
        let logHead = try await witness.advance(store)
        guard let head = try await store.transaction({ try $0.streamHead(stream) }) else {
            throw DaemonError(.notFound, "run \(run) has no events yet")
        }
        let claim = ReceiptClaim(
            run: run, runHead: ChainHead(length: head.version, hash: head.hash), logHead: logHead,
            issuedAt: ISO8601DateFormatter().string(from: Date()))
        return try witness.key.sign(claim)
    }

    /// The run's chain and the log against a receipt.
    func verify(_ run: String, against receipt: SignedReceipt) async throws -> ReceiptVerification {
        var problems: [String] = []
        let signatureProblem = witness.key.signatureProblem(receipt)
        if let signatureProblem { problems.append(signatureProblem) }
        if receipt.claim.run != run {
            problems.append("the receipt is for run \(receipt.claim.run ?? "(none: a log witness)"), not \(run)")
        }
        let stream = DaemonEvent.stream(run)
        let runHead = try await store.transaction { try $0.streamHead(stream) }
        if let signed = receipt.claim.runHead {
            var broken: String?
            if case .broken(let version, _, let reason) = try await store.verify(stream: stream) {
                broken = "version \(version): \(reason)"
            }
            var hashAtSigned = ChainPoint.genesis.hash
            if signed.length > 0 {
                hashAtSigned = try await store.eventHash(stream: stream, version: signed.length) ?? ""
            }
            let observed = ReceiptCheck.Observed(
                length: runHead?.version ?? 0, hashAtSigned: hashAtSigned.isEmpty ? nil : hashAtSigned,
                broken: broken)
            problems += ReceiptCheck(subject: "the run's chain", signed: signed, observed: observed).problems
        }
        let log = try await store.verifyLog(checkpoints: [receipt.claim.logHead.length])
        // A receipt's log head is its issuer's log; checked against another database's, it accused an imported
        // run's database of a cut log ("10 events were removed"). Only a receipt this daemon signed names this log.
        if signatureProblem == nil {
            problems += Self.check(log, against: receipt.claim.logHead).problems
        } else {
            problems.append("the log was not compared: the receipt's log head is its issuer's log, not this database's")
        }
        return ReceiptVerification(
            run: run, intact: problems.isEmpty, problems: problems,
            runHead: runHead.map { ChainHead(length: $0.version, hash: $0.hash) },
            logHead: ChainHead(length: log.stored.length, hash: log.stored.hash))
    }

    /// Every chain, and the log against the last head this daemon witnessed; an intact log moves the witness on.
    func verifyAll() async throws -> LogVerifyReport {
        let witnessed = try await witness.current()
        let log = try await store.verifyLog(checkpoints: witnessed.map { [$0.claim.logHead.length] } ?? [])
        var problems: [String]
        if let witnessed {
            problems = Self.check(log, against: witnessed.claim.logHead).problems
        } else {
            problems = log.broken.map { ["the log does not verify: \(Self.describe($0))"] } ?? []
        }
        var current = witnessed?.claim.logHead
        if problems.isEmpty { current = try await witness.advance(store) }
        return LogVerifyReport(
            intact: problems.isEmpty, events: log.recomputed.length, streams: log.streams,
            logHead: ChainHead(length: log.stored.length, hash: log.stored.hash), witnessed: current,
            witnessedAt: witnessed?.claim.issuedAt, problems: problems)
    }

    private static func check(_ log: LogVerification, against signed: ChainHead) -> ReceiptCheck {
        // A log that breaks before the signed position has no recomputed hash there: the break says why.
        let observed = ReceiptCheck.Observed(
            length: log.stored.length, hashAtSigned: log.checkpoints[signed.length],
            broken: log.broken.map(describe))
        return ReceiptCheck(subject: "the log", signed: signed, observed: observed)
    }

    private static func describe(_ broken: LogBreak) -> String {
        var text = broken.reason
        if let stream = broken.stream { text = "stream \(stream): " + text }
        if let position = broken.position { text = "at position \(position), " + text }
        return text
    }
}
