import Analysis
import Foundation
import WireTypes

/// `/`: the runs, newest first, with filters by state, group (the start of its id), tag (whole) and text (in the id or
/// the name): the daemon reads the runs that pass them, at most `limit`.
public struct RunsPage: Sendable {
    public struct Filter: Sendable, Equatable {
        public var state: RunState?
        public var group: String?
        /// One of the run's tags (`e2h tag`), exactly.
        public var tag: String?
        public var text: String?

        public init(state: RunState? = nil, group: String? = nil, tag: String? = nil, text: String? = nil) {
            self.state = state
            self.group = group
            self.tag = tag
            self.text = text
        }

        /// The filter as a URL query ("?state=running&q=x"; "" when it is empty), for the live table's stream.
        public var query: String {
            let fields = [("state", state?.rawValue), ("group", group), ("tag", tag), ("q", text)]
            let present = fields.compactMap { name, value in
                value.flatMap { $0.isEmpty ? nil : "\(name)=\(URLPath.component($0))" }
            }
            return present.isEmpty ? "" : "?" + present.joined(separator: "&")
        }
    }

    /// The most runs the page lists (newest first), and its live table re-renders.
    public static let limit = 500
    /// Where the page's script follows the table: `LiveUpdate.runsTable` frames, with the page's filter.
    public static let livePath = "/live"

    public var runs: [RunDetails]
    public var filter: Filter
    public var now: Date

    public init(runs: [RunDetails], filter: Filter, now: Date) {
        self.runs = runs
        self.filter = filter
        self.now = now
    }

    public func page() -> Page {
        let states = ([nil] + RunState.allCases.map { Optional($0) }).map { state -> HTML in
            let value = state?.rawValue ?? ""
            let label = state?.rawValue ?? "any state"
            return state == filter.state
                ? "<option value=\"\(value)\" selected=\"selected\">\(label)</option>"
                : "<option value=\"\(value)\">\(label)</option>"
        }
        let main: HTML = """
            <form class="filters" method="get" action="/">
            <label>state <select name="state">\(states)</select></label>
            <label>group <input type="text" name="group" value="\(filter.group ?? "")"/></label>
            <label>tag <input type="text" name="tag" value="\(filter.tag ?? "")"/></label>
            <label>text <input type="search" name="q" value="\(filter.text ?? "")"/></label>
            <button type="submit">Filter</button>
            </form>
            <div id="runs-live" data-source="\(Self.livePath + filter.query)">
            \(table())</div>
            """
        return Page(
            title: "Runs", navigation: Navigation.links(current: .runs), main: main, scripts: [LiveScript.path])
    }

    /// The runs as a table (or a line saying none passed the filter): the page's, and what its live stream sends
    /// again whenever it changes.
    public func table() -> HTML {
        guard !runs.isEmpty else {
            return "<p class=\"muted\">No runs match. Submit one with <code>e2h submit SPEC.yaml</code>.</p>\n"
        }
        let rows = runs.map { run -> HTML in
            let progress = run.progress.map { DisplayText.progress($0) } ?? ""
            let group: HTML = run.group.map { "<a href=\"\(URLPath.make("groups", $0))\">\($0)</a>" } ?? ""
            return """
                <tr data-run="\(run.id)">
                <td><a href="\(URLPath.make("runs", run.id))"><code>\(String(run.id.prefix(8)))</code></a></td>
                <td class="name">\(run.name)</td>
                <td><span class="state \(run.state.rawValue)">\(run.state.rawValue)</span></td>
                <td>\(group)</td>
                <td class="tags">\((run.tags ?? []).joined(separator: ", "))</td>
                \(Self.headlineCell(run.headline))
                <td class="number">\(DisplayText.runDuration(run, now: now))</td>
                <td>\(DisplayText.time(run.submittedAt))</td>
                <td class="number">\(run.eventCount)</td>
                <td>\(progress)</td>
                </tr>

                """
        }
        return """
            <table class="runs">
            <thead><tr><th>id</th><th>name</th><th>state</th><th>group</th><th>tags</th>\
            <th title="hard levels: the spec's baseline row, 95 % interval over problems">hard @N</th>\
            <th class="number">duration</th><th>submitted</th><th class="number">events</th><th>progress</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>
            \(runs.count >= Self.limit ? Self.limitNote : "")
            """
    }

    /// Under a table the limit cut short: older runs exist, and a filter finds them.
    static let limitNote: HTML =
        "<p class=\"muted\">The newest \(limit) runs that pass the filter; narrow it to find older ones.</p>\n"

    /// A completed run's headline: the hard accuracy with its interval, the row it is of (the spec's baseline), and
    /// the claims' tally; empty for a run without one.
    static func headlineCell(_ headline: RunHeadline?) -> HTML {
        guard let headline else { return "<td class=\"headline\"></td>" }
        let claims: HTML =
            ComparisonTable.headlineClaims(headline).map { "<br/><small class=\"claims\">\($0)</small>" }
            ?? ""
        return """
            <td class="headline" title="\(headline.row) on hard levels">\
            <span class="accuracy">\(ComparisonTable.headlineAccuracy(headline))</span> \
            <small class="row">\(headline.row)</small>\(claims)</td>
            """
    }
}
