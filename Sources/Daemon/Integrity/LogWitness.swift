import EventStore
import Foundation
import Logging
import RunBundle
import ServiceLifecycle
import WireTypes

/// The daemon's signed copy of the log's head, in `<stateDirectory>/witness`: what `verify --all` compares the
/// log with, so a log shortened, rolled back or rewritten with every hash recomputed is evident to a daemon that
/// saw it before. The witness only moves forward along the chain: it advances to the present head only when the
/// events after the witnessed position fold, by the global chain's rule, from the witnessed hash to the stored
/// head — a log that no longer extends what was witnessed keeps the old witness as evidence.
actor LogWitness {
    let path: String
    let key: ReceiptKey

    init(stateDirectory: String, key: ReceiptKey) {
        path = (stateDirectory as NSString).appendingPathComponent("witness")
        self.key = key
    }

    /// The last witnessed head, its signature checked; nil before the first.
    func current() throws -> SignedReceipt? {
        guard let bytes = FileManager.default.contents(atPath: path) else { return nil }
        guard let witness = try? JSONDecoder().decode(SignedReceipt.self, from: bytes),
            key.signatureProblem(witness) == nil, witness.claim.run == nil
        else {
            throw DaemonError(
                .conflict,
                "the witness file \(path) is damaged or not signed by this daemon's key: the state directory was "
                    + "edited. Move it away to start witnessing afresh (the log is then only checked for consistency)")
        }
        return witness
    }

    /// Moves the witness to the log's present head, if the log extends it; returns the witnessed head.
    @discardableResult
    func advance(_ store: EventStore) async throws -> ChainHead {
        let previous = try current()
        let from = previous.map { ChainPoint(length: $0.claim.logHead.length, hash: $0.claim.logHead.hash) } ?? .genesis
        let (hashes, head) = try await store.hashes(after: from.length)
        guard head.length >= from.length, let extended = from.extended(by: hashes), extended == head else {
            throw DaemonError(
                .conflict,
                "the event log no longer extends the head this daemon witnessed (position \(from.length)): it was "
                    + "shortened, rolled back or rewritten. Run `e2h verify --all` to see what changed")
        }
        let witnessed = ChainHead(length: head.length, hash: head.hash)
        // Another advance may have written a later head while this one read: never move the witness back.
        if let latest = try current(), latest.claim.logHead.length >= head.length, previous != nil {
            return latest.claim.logHead
        }
        if previous == nil || head.length > from.length {
            let claim = ReceiptClaim(
                run: nil, runHead: nil, logHead: witnessed, issuedAt: ISO8601DateFormatter().string(from: Date()))
            try SecretFile.write(Array(try JSONEncoder().encode(try key.sign(claim))), to: path, what: "witness file")
        }
        return witnessed
    }
}

/// Advances the witness every few seconds, so that `verify --all` checks against a recent head without anyone
/// asking for receipts.
struct LogWitnessService: Service {
    let witness: LogWitness
    let store: EventStore
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        var reported = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await witness.advance(store)
                reported = false
            } catch let error as DaemonError where error.code == .conflict {
                // Said once per episode: the witness stays where it was, as evidence, until someone looks.
                if !reported { logger.error("\(error.message)") }
                reported = true
            } catch {
                logger.warning("cannot witness the log head now", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
