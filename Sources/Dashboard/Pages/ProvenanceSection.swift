import WireTypes

/// The run page's "Provenance" section: what executed each attempt (binary, toolchain, machine, threads, database),
/// one column per attempt so a change between attempts reads across a row.
enum ProvenanceSection {
    static func html(_ attempts: [AttemptProvenance]) -> HTML {
        guard !attempts.isEmpty else { return "<h2>Provenance</h2>\n<p class=\"muted\">No attempt yet.</p>\n" }
        let head = attempts.map { attempt -> HTML in "<th>attempt \(attempt.attempt) (\(attempt.worker))</th>" }
        let labels = attempts.compactMap(\.provenance).first?.fields.map(\.label) ?? []
        let rows = labels.enumerated().map { (index, label) -> HTML in
            let cells = attempts.map { attempt -> HTML in
                guard let provenance = attempt.provenance else { return "<td class=\"muted\">not recorded</td>" }
                return "<td>\(provenance.fields[index].value)</td>"
            }
            return "<tr><th>\(label)</th>\(cells)</tr>\n"
        }
        return """
            <h2>Provenance</h2>
            <table class="provenance" id="provenance">
            <thead><tr><th></th>\(head)</tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>

            """
    }
}
