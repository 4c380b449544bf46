import ArgumentParser
import Foundation
import WireTypes

/// `e2h gc`: the daemon's retention policy applied to every finished run.
struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Prune finished runs by the daemon's retention policy, or show what that would free.",
        discussion: """
            Each run releases the blobs nothing depends on any more (intermediate checkpoints of completed stages) \
            with a tombstone in its record; a blob is deleted once no run holds it. Completed runs are pruned when \
            they complete, so gc frees what runs finished before retention was on, failed or cancelled runs (which \
            keep what a resume needs), and blobs shared with a run that has since released them too. Prints, per \
            run, what it frees and what it still occupies.
            """)

    @Flag(help: "Only show what would be released and freed.") var dryRun = false
    @OptionGroup var connection: ConnectionFlags
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await E2H.guarded {
            let report = try await connection.client().post(
                "v1/gc", body: CollectRequest(dryRun: dryRun), as: CollectReport.self)
            if json { try printJSON(report) } else { print(Self.text(report)) }
        }
    }

    static func text(_ report: CollectReport) -> String {
        var lines = [
            "RUN                                   NAME                 RELEASED  FREED       KEPT BLOBS  EVENTS"
        ]
        for run in report.runs {
            lines.append(
                run.run.padding(toLength: 38, withPad: " ", startingAt: 0)
                    + String(run.name.prefix(20)).padding(toLength: 21, withPad: " ", startingAt: 0)
                    + String(run.releasedBlobs).padding(toLength: 10, withPad: " ", startingAt: 0)
                    + byteText(run.freedBytes).padding(toLength: 12, withPad: " ", startingAt: 0)
                    + byteText(run.blobBytes).padding(toLength: 12, withPad: " ", startingAt: 0)
                    + byteText(run.eventBytes))
        }
        let verb = report.dryRun ? "would free" : "freed"
        lines.append(
            "\(report.runs.count) finished run(s), retention \(report.retention.rawValue): \(verb) "
                + "\(byteText(report.freedBytes)) in \(report.runs.reduce(0) { $0 + $1.freedBlobs }) blob(s)")
        return lines.joined(separator: "\n")
    }

    /// Bytes in binary units with one decimal, as `du -h` reads.
    static func byteText(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
