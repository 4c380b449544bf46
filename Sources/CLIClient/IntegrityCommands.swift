import ArgumentParser
import Foundation
import WireTypes

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a run's hash chain, against a receipt, or the whole log.",
        discussion: """
            `e2h verify RUN` recomputes the run's chain. With `--receipt FILE` (made by `e2h receipt`), the run and \
            the whole log are also compared with what the receipt signed, which reveals a cut tail, a rolled-back \
            head or a history rewritten with every hash recomputed. `e2h verify --all` checks every run's chain, \
            the chain over the whole log, and the log against the last head the daemon witnessed. Exit 1 when \
            anything does not hold.
            """)

    @Argument(help: "Run id (or a unique prefix).") var run: String?
    @Option(help: "A receipt written by `e2h receipt`.") var receipt: String?
    @Flag(help: "Check every stream and the whole log.") var all = false
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func validate() throws {
        guard all != (run != nil) else { throw ValidationError("give a run id or --all, not both and not neither") }
        guard !(all && receipt != nil) else { throw ValidationError("--receipt goes with a run id, not with --all") }
    }

    func run() async throws {
        try await E2H.guarded {
            let client = try connection.client()
            let intact: Bool
            if all {
                let report = try await client.get("v1/verify", as: LogVerifyReport.self)
                intact = report.intact
                if json { try printJSON(report) } else { print(Self.text(report)) }
            } else if let run, let receipt {
                let signed = try JSONDecoder().decode(SignedReceipt.self, from: try readUserFile(receipt))
                let report = try await client.post("v1/runs/\(run)/verify", body: signed, as: ReceiptVerification.self)
                intact = report.intact
                if json { try printJSON(report) } else { print(Self.text(report, receipt: signed)) }
            } else if let run {
                let report = try await client.get("v1/runs/\(run)/verify", as: VerifyReport.self)
                intact = report.intact
                if json {
                    try printJSON(report)
                } else if let version = report.brokenAtVersion {
                    print("\(report.run): hash chain BROKEN at version \(version): " + (report.reason ?? ""))
                } else {
                    print("\(report.run): hash chain intact (\(report.events) events)")
                    if let blobs = report.blobs { print(Self.text(blobs)) }
                }
            } else {
                intact = false
            }
            if !intact { throw ExitCode.failure }
        }
    }

    /// The record's blobs: a pruned one was released by a tombstone (retention), a missing one was lost.
    static func text(_ blobs: BlobVerification) -> String {
        var lines = ["blobs: \(blobs.stored) of the \(blobs.named) the record names are stored"]
        if !blobs.pruned.isEmpty {
            lines.append("  \(blobs.pruned.count) pruned by retention (tombstones in the record):")
            lines += blobs.pruned.map { "    " + $0 }
        }
        if let leftOut = blobs.leftOut, !leftOut.isEmpty {
            lines.append(
                "  \(leftOut.count) left out of the scores-only bundle this run was imported from (never here):")
            lines += leftOut.map { "    " + $0 }
        }
        if !blobs.missing.isEmpty {
            lines.append("  \(blobs.missing.count) MISSING (named, not stored, never pruned):")
            lines += blobs.missing.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    static func text(_ report: LogVerifyReport) -> String {
        let witness =
            report.witnessed.map {
                "witnessed up to position \($0.length)\(report.witnessedAt.map { " at \($0)" } ?? "")"
            }
            ?? "nothing witnessed yet: only the log's own consistency was checked"
        guard report.intact else {
            return (["log: BROKEN (\(witness))"] + report.problems.map { "  - " + $0 }).joined(separator: "\n")
        }
        return "log: intact (\(report.events) events in \(report.streams) streams; \(witness))"
    }

    static func text(_ report: ReceiptVerification, receipt: SignedReceipt) -> String {
        let signed = receipt.claim
        guard report.intact else {
            return
                (["\(report.run): does NOT match the receipt of \(signed.issuedAt)"]
                + report.problems.map { "  - " + $0 }).joined(separator: "\n")
        }
        return "\(report.run): matches the receipt of \(signed.issuedAt) (run at version "
            + "\(signed.runHead?.length ?? 0), log at position \(signed.logHead.length), signed by key \(receipt.keyId))"
    }
}

struct Receipt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed receipt of a run's head and of the whole log.",
        discussion: """
            Keep the receipt somewhere other than the database (it is small JSON). `e2h verify RUN --receipt FILE` \
            later tells whether the run or the log was shortened, rolled back or rewritten since. The key that signs \
            lives in the daemon's state directory.
            """)

    @Argument(help: "Run id (or a unique prefix).") var run: String
    @Option(name: .shortAndLong, help: "Write the receipt to this file instead of printing it.") var output: String?
    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        try await E2H.guarded {
            let receipt = try await connection.client().get("v1/runs/\(run)/receipt", as: SignedReceipt.self)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(receipt) + Data("\n".utf8)
            if let output {
                try writeUserFileAtomically(data, to: output)
                print("wrote \(output)\nnext: e2h verify \(receipt.claim.run ?? run) --receipt \(output)")
            } else {
                print(String(decoding: data, as: UTF8.self), terminator: "")
            }
        }
    }
}
