import Analysis
import ArgumentParser
import Foundation
import WireTypes

struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The headline rows of runs with 95 % intervals and paired differences to a baseline.",
        discussion: """
            One run: intervals by a seeded bootstrap over problems, differences paired on the same problems. \
            Several runs: read as seeds of one experiment — mean, sd, n and a Student t interval across seeds, \
            differences paired by seed. By default the rows the spec's report: block named before the run \
            (or majority voting, likelihood voting when recorded, weighted voting and best-of-N with each \
            evaluator, and the greedy policies); --all \
            prints every recorded row.
            """)

    @Argument(
        help:
            "Run ids (or unique prefixes), or a group's id for its completed members; several runs are taken as seeds of one experiment."
    )
    var runs: [String]
    @Flag(help: "Every recorded row, not only the headline.") var all = false
    @Option(help: "The row others are compared with, e.g. sft/majority or sft/weighted/verifier/prod@16.")
    var baseline: String?
    @Option(
        parsing: .unconditional,
        help:
            "The N of headline rows that name none (default: the spec's, else each row's largest); claims keep theirs.")
    var n: Int?
    @Flag(help: "Each level on its own instead of easy, hard and all.") var levels = false
    @Option(
        name: .customLong("where"),
        help:
            "Keep rows that match, e.g. 'evaluator=verifier and n>=16' or 'levels=hard and method in (weighted, majority)'."
    )
    var filter: String?
    @Option(
        name: .customLong("setting"),
        help: ArgumentHelp(
            "With a group: only its members with this setting (repeatable), e.g. rl.dpo.nll_weight=2 for that "
                + "setting's seeds.", valueName: "path=value"))
    var settings: [String] = []
    @Flag(help: "Print a Markdown table.") var md = false
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if runs.isEmpty { throw ValidationError("name at least one run") }
        if md && output.given != nil { throw ValidationError("choose one of --md, --json and --csv") }
        if let n, n < 1 { throw ValidationError("--n must be at least 1") }
    }

    func run() async throws {
        try await E2H.guarded {
            // Parsed before the request, so a malformed filter costs no daemon work and exits 2.
            var rowFilter: RowFilter?
            if let filter {
                do {
                    rowFilter = try RowFilter(parsing: filter)
                } catch let error as AnalysisError {
                    throw ClientError(.usage, error.message)
                }
            }
            let client = try connection.client()
            var ids: [String] = []
            var leftOut: [String] = []
            for argument in runs {
                let named = try await RunOrGroup.completedRuns(argument, client: client, settings: settings)
                ids += named.runs
                if let note = named.leftOut { leftOut.append(note) }
            }
            var response = try await client.post(
                "v1/compare",
                body: CompareRequest(runs: ids, all: all, baseline: baseline, n: n, eachLevel: levels),
                as: CompareResponse.self)
            response.warnings = leftOut + response.warnings
            if let rowFilter { response.report.rows = response.report.rows.filter(rowFilter.matches) }
            // JSON carries the warnings in its `warnings`; every other form says them on standard error.
            if md || !output.json {
                for warning in response.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            }
            // --md on the command line wins over E2H_OUTPUT, as every option wins over its variable.
            if md { return print(ComparisonTable.render(response.report, as: .markdown)) }
            if output.json { return try printJSON(response) }
            if output.csv { return print(ComparisonTable.render(response.report, as: .csv)) }
            let names = Set(response.runs.map(\.name)).sorted().joined(separator: ", ")
            let kind =
                response.runs.count == 1 ? "run \(response.runs[0].id.prefix(8))" : "\(response.runs.count) seeds"
            // Only a `report:` block is named before the run; the default headline is chosen from what it recorded.
            let shown =
                !response.report.headline
                ? "every row"
                : response.namedInAdvance == false
                    ? "the default headline (the spec names no report rows)"
                    : "headline rows named in advance"
            print("\(names) — \(kind); \(shown)")
            print(ComparisonTable.render(response.report, as: .text))
            if response.runs.count > 1 {
                if response.specDifferences.isEmpty {
                    print("specs: identical")
                } else {
                    print("spec differences:")
                    for difference in response.specDifferences {
                        print("  \(difference.path): " + difference.values.joined(separator: " | "))
                    }
                }
            }
            if response.report.headline { print("more: --all (every row), --levels, --where '…', --md, --csv, --json") }
        }
    }
}
