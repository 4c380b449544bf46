import Foundation
import WireTypes

/// `/`: the runs, newest first, with filters by state, group, tag and text (matched against id and name).
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

        /// Whether a run passes: the state the daemon already filtered by is checked again, so the page is right
        /// whoever fetched the runs.
        public func admits(_ run: RunDetails) -> Bool {
            if let state, run.state != state { return false }
            if let group, run.group != group { return false }
            if let tag, !(run.tags ?? []).contains(tag) { return false }
            if let text, !text.isEmpty {
                let needle = text.lowercased()
                return run.id.contains(needle) || run.name.lowercased().contains(needle)
            }
            return true
        }
    }

    public var runs: [RunDetails]
    public var filter: Filter
    public var now: Date

    public init(runs: [RunDetails], filter: Filter, now: Date) {
        self.runs = runs
        self.filter = filter
        self.now = now
    }

    public func page() -> Page {
        let shown = runs.filter(filter.admits)
        let rows = shown.map { run -> HTML in
            let progress = run.progress.map { DisplayText.progress($0) } ?? ""
            let group: HTML = run.group.map { "<a href=\"\(URLPath.make("groups", $0))\">\($0)</a>" } ?? ""
            return """
                <tr data-run="\(run.id)">
                <td><a href="\(URLPath.make("runs", run.id))"><code>\(String(run.id.prefix(8)))</code></a></td>
                <td class="name">\(run.name)</td>
                <td><span class="state \(run.state.rawValue)">\(run.state.rawValue)</span></td>
                <td>\(group)</td>
                <td class="tags">\((run.tags ?? []).joined(separator: ", "))</td>
                <td>\(DisplayText.time(run.submittedAt))</td>
                <td class="number">\(DisplayText.runDuration(run, now: now))</td>
                <td class="number">\(run.eventCount)</td>
                <td>\(progress)</td>
                </tr>

                """
        }
        let states = ([nil] + RunState.allCases.map { Optional($0) }).map { state -> HTML in
            let value = state?.rawValue ?? ""
            let label = state?.rawValue ?? "any state"
            return state == filter.state
                ? "<option value=\"\(value)\" selected=\"selected\">\(label)</option>"
                : "<option value=\"\(value)\">\(label)</option>"
        }
        let table: HTML =
            shown.isEmpty
            ? "<p class=\"muted\">No runs match. Submit one with <code>e2h submit SPEC.yaml</code>.</p>\n"
            : """
            <table class="runs">
            <thead><tr><th>id</th><th>name</th><th>state</th><th>group</th><th>tags</th><th>submitted</th>\
            <th class="number">duration</th><th class="number">events</th><th>progress</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>

            """
        let main: HTML = """
            <form class="filters" method="get" action="/">
            <label>state <select name="state">\(states)</select></label>
            <label>group <input type="text" name="group" value="\(filter.group ?? "")"/></label>
            <label>tag <input type="text" name="tag" value="\(filter.tag ?? "")"/></label>
            <label>text <input type="search" name="q" value="\(filter.text ?? "")"/></label>
            <button type="submit">Filter</button>
            </form>
            \(table)
            """
        return Page(title: "Runs", navigation: Navigation.links(current: .runs), main: main)
    }
}
