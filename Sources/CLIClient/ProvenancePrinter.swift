import Foundation
import WireTypes

/// Provenance as `e2h show` and `e2h replay` print it, in `Provenance.fields` order.
enum ProvenancePrinter {
    /// One block per attempt, under `show`'s other facts.
    static func lines(_ list: ProvenanceList) -> [String] {
        list.attempts.flatMap { attempt -> [String] in
            let head = "attempt \(attempt.attempt):  \(attempt.worker)"
            guard let provenance = attempt.provenance else { return [head, "  (recorded no provenance)"] }
            return [head] + fields(provenance, indent: "  ")
        }
    }

    /// The first differing event, with what produced each side next to it.
    static func divergence(_ divergence: ReplayReport.Divergence) -> [String] {
        let field = divergence.field.isEmpty ? "-" : divergence.field
        var lines = [
            "diverged at event \(divergence.index) (\(divergence.eventType)), field \(field)",
            "  recorded: \(divergence.recorded)",
            "  replayed: \(divergence.replayed)",
        ]
        let sides = [("recorded", divergence.recordedProvenance), ("replayed", divergence.replayedProvenance)]
        for (side, provenance) in sides {
            guard let provenance else {
                lines.append("  \(side) by: (no provenance recorded)")
                continue
            }
            lines.append("  \(side) by:")
            lines += fields(provenance, indent: "    ")
        }
        return lines
    }

    private static func fields(_ provenance: Provenance, indent: String) -> [String] {
        provenance.fields.map { indent + "\($0.label):".padding(toLength: 12, withPad: " ", startingAt: 0) + $0.value }
    }
}
