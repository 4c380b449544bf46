import EventStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import WireTypes

/// The HTTP JSON API, described by `openapi.yaml` beside this file. `/healthz`, `/readyz` and `/openapi.yaml` are
/// open; everything else needs the bearer token (or, for the dashboard's pages, a session).
struct APIRouter {
    /// A spec is at most 1 MiB; the JSON envelope around it adds a little.
    static let specBodyLimit = 1 << 20 + 64 << 10

    let token: AccessToken
    let metrics: DaemonMetrics
    let queue: Queue
    let readiness: DatabaseReadiness
    let witness: LogWitness
    let access: DashboardAccess
    /// Woken on every commit to the event log and every stored progress report (NOTIFY), for the live streams.
    let appended: WakeSignal
    let logger: Logger

    var catalog: RunCatalog { RunCatalog(queue: queue) }

    func build() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(logger: logger))
        router.get("/healthz") { _, _ in
            try jsonResponse(["status": "ok"])
        }
        // Readiness, apart from liveness: whether the database answered a probe in the last few seconds.
        router.get("/readyz") { _, _ in
            guard readiness.isReady else {
                throw DaemonError(.database, "the database is not answering; the daemon keeps trying to reach it")
            }
            return try jsonResponse(["status": "ready"])
        }
        // Open like /healthz: the document describes the API and holds no data, and a client generator reads it
        // before anyone has handed it a token.
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }
        DashboardRoutes(access: access, queue: queue, appended: appended).add(to: router)
        let api = router.group().add(middleware: BearerAuthMiddleware(token: token))
        addGroupRoutes(to: api)
        addIntegrityRoutes(to: api)
        addHookRoutes(to: api)
        api.get("/metrics") { _, _ in
            let census = try await catalog.census()
            let storage = try await queue.store.storageFigures()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: metrics.exposition(
                            runsByState: census.byState, queueDepth: census.queued, storage: storage,
                            eventsAppended: queue.store.eventsAppended))))
        }
        api.post("/v1/runs") { request, _ in
            let submit = try await decodeBody(SubmitRequest.self, from: request, limit: Self.specBodyLimit)
            guard submit.yaml.utf8.count <= 1 << 20 else {
                throw DaemonError(.bodyTooLarge, "the spec is larger than 1 MiB")
            }
            let response = try await RunSubmission(queue: queue).submit(submit)
            return try jsonResponse(response, status: response.created ? .created : .ok)
        }
        api.get("/v1/runs") { request, _ in
            let query = QueryParameters(request)
            let state = try query.string("status").map { text -> RunState in
                guard let state = RunState(rawValue: text) else {
                    throw DaemonError(
                        .badRequest, "unknown status \(text): one of \(RunState.allCases.map(\.rawValue))")
                }
                return state
            }
            let limit = try query.integer("limit", default: 50, in: 1...1000)
            let condition = try query.string("where").map(RunQuery.init(parsing:))
            return try jsonResponse(
                RunList(runs: try await catalog.list(state: state, limit: limit, query: condition)))
        }
        api.get("/v1/runs/:id") { _, context in
            try jsonResponse(try await catalog.details(try await runID(context)))
        }
        api.get("/v1/runs/:id/provenance") { _, context in
            let id = try await runID(context)
            let events = try await queue.store.readWhole(stream: DaemonEvent.stream(id))
            return try jsonResponse(ProvenanceList(run: id, attempts: try RecordedProvenance.attempts(events)))
        }
        api.get("/v1/runs/:id/events") { request, context in
            try jsonResponse(try await eventPage(request, try await runID(context)))
        }
        // What `e2h follow` reads: the run page's live stream, with the wire shapes (`RunStreamMessage`).
        api.get("/v1/runs/:id/stream") { request, context in
            let id = try await runID(context)
            let after = try LiveRunStream.start(request)
            return LiveRunStream(queue: queue, appended: appended).response(run: id, after: after, framing: .api)
        }
        api.post("/v1/runs/:id/cancel") { _, context in
            // The run's holder, on this daemon or another, hears of it through NOTIFY (or its next heartbeat).
            try jsonResponse(try await RunControl(queue: queue).cancel(try await runID(context)))
        }
        api.post("/v1/runs/:id/resume") { _, context in
            try jsonResponse(try await RunControl(queue: queue).resume(try await runID(context)))
        }
        api.post("/v1/runs/:id/replay") { _, context in
            // Queued, not executed here: a worker claims the replay like a run.
            let response = try await RunSubmission(queue: queue).submitReplay(of: try await runID(context))
            return try jsonResponse(response, status: .accepted)
        }
        addAnnotationRoutes(to: api, under: "/v1/runs/:id") { .run(try await runID($0)) }
        api.post("/v1/runs/:id/clone") { request, context in
            let clone = try await decodeBody(CloneRequest.self, from: request, limit: Self.specBodyLimit)
            let response = try await GroupSubmission(queue: queue).clone(try await runID(context), clone)
            return try jsonResponse(response, status: response.created ? .created : .ok)
        }
        api.get("/v1/runs/:id/metrics") { _, context in
            let id = try await runID(context)
            return try jsonResponse(RunMetricsReading.metrics(run: id, points: try await queue.store.metrics(run: id)))
        }
        // What `e2h open` opens: the token's holder asks for a one-time link into the dashboard.
        api.post("/v1/dashboard/sign-in-links") { _, _ in
            let link = access.mintLink()
            return try jsonResponse(
                SignInLinkResponse(
                    path: link.pathAndQuery, expiresAt: Date(timeIntervalSince1970: Double(link.expires))),
                status: .created)
        }
        api.get("/v1/runs/:id/verify") { _, context in
            let id = try await runID(context)
            let report: VerifyReport
            switch try await queue.store.verify(stream: DaemonEvent.stream(id)) {
            case .intact(let events):
                // Only a record whose chain holds is read for its blobs.
                let blobs = try await RunBlobRecord.read(id, from: queue.store).verification(in: queue.store)
                report = VerifyReport(
                    run: id, intact: blobs.missing.isEmpty, events: Int(events), brokenAtVersion: nil,
                    reason: blobs.missing.isEmpty ? nil : "\(blobs.missing.count) blob(s) the record names are missing",
                    blobs: blobs)
            case .broken(let version, _, let reason):
                report = VerifyReport(run: id, intact: false, events: 0, brokenAtVersion: version, reason: reason)
            }
            return try jsonResponse(report)
        }
        api.post("/v1/gc") { request, _ in
            let body = try await decodeBody(CollectRequest.self, from: request, limit: Self.specBodyLimit)
            return try jsonResponse(
                try await RetentionCollector(queue: queue, mode: queue.settings.retention).collect(dryRun: body.dryRun))
        }
        api.get("/v1/runs/:id/export") { request, context in
            // Prepared first: a refusal is an HTTP error, not a download cut short.
            let prepared = try await RunBundleExport(queue: queue, witness: witness).prepare(
                try await runID(context), scoresOnly: try QueryParameters(request).flag("scores-only"))
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/x-tar",
                    .contentDisposition: "attachment; filename=\"\(prepared.run).tar\"",
                ],
                body: ResponseBody { writer in
                    var sink = ResponseSink(writer: writer)
                    try await prepared.write(to: &sink)
                    try await sink.writer.finish(nil)
                })
        }
        api.post("/v1/import") { request, _ in
            let spool = try await ImportSpool.receive(
                request.body, into: (queue.settings.stateDirectory as NSString).appendingPathComponent("imports"))
            defer { spool.remove() }
            let report = try await RunBundleImport(queue: queue, key: witness.key).importBundle(at: spool.path)
            return try jsonResponse(report, status: .created)
        }
        api.post("/v1/compare") { request, _ in
            let body = try await decodeBody(CompareRequest.self, from: request, limit: Self.specBodyLimit)
            return try jsonResponse(try await RunComparison(queue: queue).compare(body))
        }
        return router
    }

    func runID(_ context: BasicRequestContext) async throws -> String {
        try await catalog.resolve(try context.parameters.decoded("id"))
    }

    /// The events after `after`; with `wait`, held up to that many seconds (at most 30) until something new
    /// lands, the run ends or the daemon begins to shut down (a held request must not delay the exit). Polling the stream head is cheap, and unlike a notification it cannot be missed.
    private func eventPage(_ request: Request, _ id: String) async throws -> EventPage {
        let query = QueryParameters(request)
        let after = try query.versionAfter()
        let limit = try query.integer("limit", default: 500, in: 1...1000)
        let wait = try query.seconds("wait", default: 0, in: 0...30)
        let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
        while true {
            let run = try await catalog.details(id)
            let events = try await queue.store.read(
                stream: DaemonEvent.stream(id), fromVersion: after + 1, limit: limit)
            if !events.isEmpty || run.state.isFinal || ContinuousClock.now >= deadline
                || Task.isShuttingDownGracefully
            {
                return EventPage(
                    run: run, events: events.map(WireEvent.init), lastVersion: events.last?.version ?? after)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

extension QueryParameters {
    init(_ request: Request) { self.init(query: request.uri.query) }
}
