import Foundation
import WireTypes

/// `/runs/:id`: everything the record says about one run — state and live progress, the stage timeline,
/// training curves, accuracy against N with intervals, the headline table, the spec with its hash, the
/// paged event log with the hash chain's verdict, and the actions a signed-in user may take.
public struct RunPage: Sendable {
    /// The run's results, or why there are none yet.
    public enum Results: Sendable {
        /// The full grid (every row at every N, for the accuracy-vs-N figure) and the spec's headline.
        case compared(grid: ComparisonReport, headline: ComparisonReport)
        case unavailable(reason: String)
    }

    /// One page of the event log.
    public struct EventLog: Sendable {
        public var events: [WireEvent]
        /// The version this page starts after.
        public var after: Int64
        public var pageSize: Int
        public var total: Int

        public init(events: [WireEvent], after: Int64, pageSize: Int, total: Int) {
            self.events = events
            self.after = after
            self.pageSize = pageSize
            self.total = total
        }
    }

    /// A trained evaluator and how well its scores separate right from wrong (ROC-AUC; nil where one class
    /// was absent), on easy problems (whose labels it trained on) and hard ones (whose labels it never saw).
    public struct Evaluator: Sendable, Equatable {
        public var name: String
        public var kind: String
        /// "easy" (the easy-to-hard setting) or "all" (a full-supervision ceiling).
        public var labels: String
        public var stepEasy: Double?
        public var stepHard: Double?
        public var outcomeEasy: Double?
        public var outcomeHard: Double?

        public init(
            name: String, kind: String, labels: String, stepEasy: Double?, stepHard: Double?, outcomeEasy: Double?,
            outcomeHard: Double?
        ) {
            self.name = name
            self.kind = kind
            self.labels = labels
            self.stepEasy = stepEasy
            self.stepHard = stepHard
            self.outcomeEasy = outcomeEasy
            self.outcomeHard = outcomeHard
        }
    }

    public var run: RunDetails
    public var timeline: StageTimeline
    public var metrics: RunMetrics
    public var evaluators: [Evaluator]
    public var results: Results
    public var specYAML: String
    public var eventLog: EventLog
    public var chain: VerifyReport
    /// Every attempt's provenance, oldest first.
    public var provenance: [AttemptProvenance]
    /// The session's token, sent back with every action form.
    public var csrfToken: String
    public var now: Date
    /// A replay job's verdict (`ReplayReport.summary`), once it recorded one.
    public var replayVerdict: String?
    /// The run's tags and notes (`e2h tag`, `e2h note`).
    public var annotations: Annotations

    public init(
        run: RunDetails, timeline: StageTimeline, metrics: RunMetrics, evaluators: [Evaluator] = [], results: Results,
        specYAML: String, eventLog: EventLog, chain: VerifyReport, provenance: [AttemptProvenance] = [],
        csrfToken: String, now: Date, replayVerdict: String? = nil, annotations: Annotations = Annotations()
    ) {
        self.run = run
        self.timeline = timeline
        self.metrics = metrics
        self.evaluators = evaluators
        self.results = results
        self.specYAML = specYAML
        self.eventLog = eventLog
        self.chain = chain
        self.provenance = provenance
        self.csrfToken = csrfToken
        self.now = now
        self.replayVerdict = replayVerdict
        self.annotations = annotations
    }

    public func page() -> Page {
        let main: HTML = """
            \(summary)\(actions)\(live)<h2>Stages</h2>
            \(stages)<h2>Training curves</h2>
            \(curves)\(evaluatorTable)\(resultSections)<h2>Spec</h2>
            <p>hash <code class="spec-hash">\(run.specHash)</code></p>
            <pre class="spec">\(specYAML)</pre>
            \(ProvenanceSection.html(provenance))<h2>Events</h2>
            \(chainVerdict)\(events)
            """
        return Page(
            title: run.name, navigation: Navigation.links(current: .none), main: main,
            scripts: run.state.isFinal ? [] : [LiveScript.path])
    }

    /// For a live run: where the page's script follows the run (from the last event shown on), and the places
    /// it writes to.
    private var live: HTML {
        guard !run.state.isFinal else { return "" }
        let source = URLPath.make("runs", run.id, "live") + "?after=\(eventLog.total)"
        return """
            <section id="live" data-source="\(source)">
            <h2>Live</h2>
            <p class="progress" id="live-progress">\(run.progress.map(DisplayText.progress) ?? "")</p>
            <p>latest: <span id="live-latest">event \(eventLog.total)</span></p>
            <table class="events">
            <thead><tr><th class="number">#</th><th>type</th><th>stage</th><th>recorded</th><th>hash</th></tr></thead>
            <tbody id="live-events"></tbody>
            </table>
            </section>

            """
    }

    private var summary: HTML {
        let progress: HTML = run.progress.map { "<p class=\"progress\">\(DisplayText.progress($0))</p>\n" } ?? ""
        let group: HTML =
            run.group.map { "<dt>group</dt><dd><a href=\"\(URLPath.make("groups", $0))\">\($0)</a></dd>\n" } ?? ""
        let replay: HTML =
            run.replayOf.map { "<dt>replay of</dt><dd><a href=\"\(URLPath.make("runs", $0))\">\($0)</a></dd>\n" } ?? ""
        let verdict: HTML = replayVerdict.map { "<dt>verdict</dt><dd class=\"verdict\">\($0)</dd>\n" } ?? ""
        let tags: HTML =
            annotations.tags.isEmpty
            ? "" : "<dt>tags</dt><dd class=\"tags\">\(annotations.tags.joined(separator: ", "))</dd>\n"
        let notes = annotations.notes.map { note -> HTML in
            "<li><span class=\"muted\">\(DisplayText.time(note.recordedAt))</span> \(note.text)</li>"
        }
        let noteList: HTML = notes.isEmpty ? "" : "<h2>Notes</h2>\n<ul class=\"notes\">\(notes)</ul>\n"
        let lease: HTML =
            LeaseStanding(run).map { "<dt>worker</dt><dd class=\"lease\">\($0.text(now: now))</dd>\n" } ?? ""
        let errors = run.errors.map { error -> HTML in "<li>\(error)</li>" }
        let errorList: HTML = errors.isEmpty ? "" : "<h2>Errors</h2>\n<ul class=\"errors\">\(errors)</ul>\n"
        return """
            <dl class="facts">
            <dt>id</dt><dd><code>\(run.id)</code></dd>
            <dt>state</dt><dd><span class="state \(run.state.rawValue)" id="run-state">\(run.state.rawValue)</span></dd>
            \(group)\(replay)\(verdict)\(tags)<dt>submitted</dt><dd>\(DisplayText.time(run.submittedAt))</dd>
            <dt>duration</dt><dd>\(DisplayText.runDuration(run, now: now))</dd>
            <dt>attempt</dt><dd>\(run.attempt) of at most \(run.maxAttempts)</dd>
            \(lease)
            <dt>events</dt><dd id="event-count">\(run.eventCount)</dd>
            </dl>
            \(progress)\(errorList)\(noteList)
            """
    }

    /// Cancel, resume and replay as forms posting back with the session's CSRF token.
    private var actions: HTML {
        var buttons: [HTML] = []
        if !run.state.isFinal { buttons.append(ActionForm.form(run: run.id, action: "cancel", csrfToken: csrfToken)) }
        if run.state == .failed || run.state == .cancelled {
            buttons.append(ActionForm.form(run: run.id, action: "resume", csrfToken: csrfToken))
        }
        // A replay job is not replayed itself (the daemon refuses it): its verdict is on the page.
        if run.state == .completed && run.replayOf == nil {
            buttons.append(ActionForm.form(run: run.id, action: "replay", csrfToken: csrfToken))
        }
        return buttons.isEmpty ? "" : "<div class=\"actions\">\(buttons)</div>\n"
    }

    private var stages: HTML {
        guard !timeline.spans.isEmpty else {
            return run.state.isFinal
                ? "<p class=\"muted\">The run recorded no stage.</p>\n"
                : "<p class=\"muted\">No stage has started yet.</p>\n"
        }
        let rows = timeline.spans.map { span -> HTML in
            let state = span.completed == nil ? "running" : "completed"
            return """
                <tr><td>\(span.stage)</td><td>\(state)</td><td>\(DisplayText.time(span.started))</td>\
                <td class="number">\(DisplayText.duration(span.duration(now: now)))</td></tr>

                """
        }
        return """
            <table class="stages">
            <thead><tr><th>stage</th><th>state</th><th>started</th><th class="number">duration</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>

            """
    }

    private var curves: HTML {
        let drawn = metrics.series.filter { !RecordFigures.scheduleMetrics.contains($0.metric) }
        guard !drawn.isEmpty else {
            return run.state.isFinal
                ? "<p class=\"muted\">The run recorded no training step.</p>\n"
                : "<p class=\"muted\">No training step has been recorded yet.</p>\n"
        }
        return HTML.chart(RecordFigures.trainingCurves([metrics]), id: "curves")
    }

    private var evaluatorTable: HTML {
        guard !evaluators.isEmpty else { return "" }
        func auc(_ value: Double?) -> HTML {
            "<td class=\"number\">\(value.map { DisplayText.decimal($0, decimals: 3) } ?? "–")</td>"
        }
        let rows = evaluators.map { evaluator -> HTML in
            """
            <tr><td>\(evaluator.name)</td><td>\(evaluator.kind)</td><td>\(evaluator.labels)</td>\
            \(auc(evaluator.stepEasy))\(auc(evaluator.stepHard))\(auc(evaluator.outcomeEasy))\(auc(evaluator.outcomeHard))</tr>

            """
        }
        return """
            <h2>Evaluators</h2>
            <table class="evaluators">
            <thead><tr><th>name</th><th>kind</th><th>labels</th><th class="number">step AUC easy</th>\
            <th class="number">step AUC hard</th><th class="number">outcome AUC easy</th>\
            <th class="number">outcome AUC hard</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>

            """
    }

    private var resultSections: HTML {
        switch results {
        case .unavailable(let reason):
            return "<h2>Results</h2>\n<p class=\"muted\">\(reason)</p>\n"
        case .compared(let grid, let headline):
            return """
                <h2>Accuracy vs N</h2>
                \(HTML.chart(RecordFigures.accuracyVersusN(grid, linesOf: headline, subtitle: run.id), id: "accuracy"))<h2>Headline</h2>
                \(ComparisonTableHTML.table(headline))
                """
        }
    }

    private var chainVerdict: HTML {
        if chain.intact {
            return "<p class=\"chain intact\">Hash chain intact over \(chain.events) events.</p>\n"
        }
        let reason = chain.reason ?? "unknown"
        let version = chain.brokenAtVersion.map { String($0) } ?? "?"
        return "<p class=\"chain broken\">Hash chain broken at event \(version): \(reason).</p>\n"
    }

    private var events: HTML {
        let rows = eventLog.events.map { event -> HTML in
            let stage = event.payload["stage"]?.stringValue ?? ""
            return """
                <tr><td class="number">\(Int(event.version))</td><td>\(event.type)</td><td>\(stage)</td>\
                <td>\(DisplayText.time(event.recordedAt))</td><td><code>\(String(event.hash.prefix(12)))</code></td></tr>

                """
        }
        let base = URLPath.make("runs", run.id)
        var links: [HTML] = []
        // Oldest first: the previous page holds older events. Past the end, it leads back to the last page.
        if eventLog.after > 0 {
            let previous = max(0, min(Int(eventLog.after), eventLog.total) - eventLog.pageSize)
            links.append("<a href=\"\(base)?after=\(previous)#events\" rel=\"prev\">← older events</a> ")
        }
        let last = eventLog.events.last.map { Int($0.version) } ?? Int(eventLog.after)
        if last < eventLog.total {
            links.append("<a href=\"\(base)?after=\(last)#events\" rel=\"next\">newer events →</a>")
        }
        let shown: HTML =
            eventLog.events.isEmpty
            ? "No events after \(Int(eventLog.after)) (the run has \(eventLog.total))."
            : "Events \(Int(eventLog.events[0].version)) to \(last) of \(eventLog.total)."
        return """
            <p class="muted">\(shown)</p>
            <table class="events" id="events">
            <thead><tr><th class="number">#</th><th>type</th><th>stage</th><th>recorded</th><th>hash</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>
            <nav class="pages">\(links)</nav>

            """
    }
}
