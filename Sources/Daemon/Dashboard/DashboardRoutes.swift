import Dashboard
import EventStore
import Foundation
import Hummingbird
import WireTypes

/// The dashboard's pages, served by e2hd beside the API: HTML rendered on the server (module `Dashboard`),
/// charts as inline SVG, the one stylesheet compiled into the binary. A page without a session shows the
/// sign-in request and no data; every state-changing form needs its session's CSRF token.
struct DashboardRoutes {
    /// Events per page of a run's event log.
    static let eventPageSize = 100
    /// A form carries one token and nothing else worth more.
    static let formBodyLimit = 16 << 10

    let access: DashboardAccess
    let queue: Queue
    /// Woken on every commit to the event log and every stored progress report: what the live pages wait on.
    let appended: WakeSignal

    var catalog: RunCatalog { RunCatalog(queue: queue) }

    /// Whether a path is a dashboard page (its errors are shown as a page, not as JSON).
    static func isPage(_ path: String) -> Bool {
        path == "/" || path == RunsPage.livePath || path.hasPrefix("/runs/") || path == "/compare"
            || path.hasPrefix("/groups/") || path == SignInLink.path || path == ActionForm.signOutPath
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(Page.stylesheetPath)) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .init("X-Content-Type-Options")!: "nosniff"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardStylesheet.css)))
        }
        router.get(RouterPath(LiveScript.path)) { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/javascript; charset=utf-8", .init("X-Content-Type-Options")!: "nosniff",
                ],
                body: .init(byteBuffer: ByteBuffer(string: LiveScript.source)))
        }
        router.get("/runs/:id/live") { request, context in
            guard try await session(of: request) != nil else {
                throw DaemonError(.unauthorized, "sign in to follow a run: open the link `e2h open` prints")
            }
            let id = try await catalog.resolve(try context.parameters.decoded("id"))
            let after = try LiveRunStream.start(request)
            return LiveRunStream(queue: queue, appended: appended).response(run: id, after: after, framing: .page)
        }
        router.get(RouterPath(SignInLink.path)) { request, _ in
            guard let link = SignInLink(query: Self.query(request)) else {
                return Self.page(NoticePage.signInRequired(), status: .badRequest)
            }
            switch try await access.signIn(with: link) {
            case .refused(let reason):
                throw DaemonError(.unauthorized, "\(reason) — run `e2h open` for a new one")
            case .signedIn(let session):
                var response = Self.redirect(to: "/")
                response.setCookie(
                    Cookie(
                        name: DashboardAccess.cookieName, value: session.id,
                        maxAge: Int(SessionBook.sessionLifetime), path: "/", httpOnly: true, sameSite: .strict))
                return response
            }
        }
        router.get("/") { request, _ in
            try await signedIn(request) { _ in
                let filter = try Self.runsFilter(request)
                return RunsPage(runs: try await catalog.list(filter), filter: filter, now: Date()).page()
            }
        }
        router.get(RouterPath(RunsPage.livePath)) { request, _ in
            guard try await session(of: request) != nil else {
                throw DaemonError(.unauthorized, "sign in to follow the runs: open the link `e2h open` prints")
            }
            return LiveRunsStream(queue: queue, appended: appended).response(filter: try Self.runsFilter(request))
        }
        router.get("/runs/:id") { request, context in
            try await signedIn(request) { session in
                let id = try await catalog.resolve(try context.parameters.decoded("id"))
                let after = try QueryParameters(request).versionAfter()
                return try await RunPageLoading(queue: queue).page(
                    run: id, after: after, pageSize: Self.eventPageSize, csrfToken: session.csrfToken)
            }
        }
        router.get("/compare") { request, _ in
            try await signedIn(request) { _ in
                let runs = (Self.query(request)["runs"] ?? "").split(separator: ",").map(String.init)
                guard !runs.isEmpty else {
                    throw DaemonError(.badRequest, "name the runs to compare: /compare?runs=ID,ID")
                }
                return try await comparePage(
                    title: runs.count == 1 ? "Compare 1 run" : "Compare \(runs.count) runs", runs: runs)
            }
        }
        router.get("/groups/:id") { request, context in
            try await signedIn(request) { _ in
                let groups = GroupCatalog(queue: queue)
                let group = try await groups.details(try await groups.resolve(try context.parameters.decoded("id")))
                let completed = group.members.filter { $0.run.state == .completed }.map(\.run.id)
                guard !completed.isEmpty else { return ComparePage.awaitingCompletion(group) }
                return try await comparePage(title: "Group \(group.summary.name)", runs: completed, group: group)
            }
        }
        router.post(RouterPath(ActionForm.signOutPath)) { request, _ in
            // A browser whose session is gone already is signed out: it gets the same page, and its cookie goes.
            if let session = try await session(of: request) {
                if let refusal = try await Self.refusal(of: request, in: session) { return refusal }
                try await access.signOut(session)
            }
            var response = Self.page(NoticePage.signedOut())
            response.headers[.cacheControl] = "no-store"
            response.setCookie(
                Cookie(
                    name: DashboardAccess.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true,
                    sameSite: .strict))
            return response
        }
        for action in ActionForm.actions {
            router.post(RouterPath("/runs/:id/\(action)")) { request, context in
                guard let session = try await session(of: request) else {
                    return Self.page(NoticePage.signInRequired(), status: .unauthorized)
                }
                if let refusal = try await Self.refusal(of: request, in: session) { return refusal }
                let id = try await catalog.resolve(try context.parameters.decoded("id"))
                switch action {
                case "cancel": _ = try await RunControl(queue: queue).cancel(id)
                case "resume": _ = try await RunControl(queue: queue).resume(id)
                default:
                    let replay = try await RunSubmission(queue: queue).submitReplay(of: id)
                    return Self.redirect(to: URLPath.make("runs", replay.run.id))
                }
                return Self.redirect(to: URLPath.make("runs", id))
            }
        }
    }

    private func comparePage(title: String, runs: [String], group: GroupDetails? = nil) async throws -> Page {
        let (response, grid) = try await RunComparison(queue: queue).compare(
            CompareRequest(runs: runs), withGrid: true)
        var metrics: [RunMetrics] = []
        for run in response.runs {
            metrics.append(RunMetricsReading.metrics(run: run.id, points: try await queue.store.metrics(run: run.id)))
        }
        return ComparePage(
            title: title, comparison: response, grid: grid ?? response.report, metrics: metrics, group: group
        ).page()
    }

    /// The live session of the request's cookie, if any.
    private func session(of request: Request) async throws -> SessionBook.Session? {
        try await access.session(cookie: request.cookies[DashboardAccess.cookieName]?.value)
    }

    /// The 403 page for a form whose CSRF token is not its session's; nil when it is.
    private static func refusal(of request: Request, in session: SessionBook.Session) async throws -> Response? {
        let form = try await Self.form(request)
        guard SessionBook.csrfMatches(session, form[ActionForm.tokenField]) else {
            return Self.page(
                NoticePage.error(
                    status: 403, message: "the form's CSRF token is missing or wrong: reload the page and try again",
                    requestID: nil), status: .forbidden)
        }
        return nil
    }

    /// Renders `body`'s page for a browser with a session, and the sign-in request (no data) for any other.
    private func signedIn(
        _ request: Request, _ body: (SessionBook.Session) async throws -> Page
    ) async throws -> Response {
        guard let session = try await session(of: request) else {
            return Self.page(NoticePage.signInRequired(), status: .unauthorized)
        }
        var page = try await body(session)
        page.signOutToken = session.csrfToken
        return Self.page(page)
    }

    static func page(_ page: Page, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        for header in SecurityHeaders.page { headers[.init(header.name)!] = header.value }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.render())))
    }

    /// 303 See Other: after a form's POST, the browser GETs the page again.
    private static func redirect(to path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path, .cacheControl: "no-store"])
    }

    /// The runs page's filter from its query (`RunsPage.Filter.query`); an empty field filters nothing.
    private static func runsFilter(_ request: Request) throws -> RunsPage.Filter {
        let query = Self.query(request)
        let state = try query["state"].flatMap { text -> RunState? in
            if text.isEmpty { return nil }
            guard let state = RunState(rawValue: text) else {
                throw DaemonError(.badRequest, "unknown state \(text): one of \(RunState.allCases.map(\.rawValue))")
            }
            return state
        }
        return RunsPage.Filter(
            state: state, group: query["group"].flatMap { $0.isEmpty ? nil : $0 },
            tag: query["tag"].flatMap { $0.isEmpty ? nil : $0 }, text: query["q"])
    }

    private static func query(_ request: Request) -> [String: String] { QueryParameters(request).values }

    /// An `application/x-www-form-urlencoded` body as fields.
    private static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: formBodyLimit)
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: body))
        } catch {
            throw DaemonError(.badRequest, "the form could not be read: reload the page and try again")
        }
    }
}
