import ArgumentParser
import Daemon
import EventStore
import Foundation
import Logging
import Pipeline
import WireTypes

/// `e2h-bench page`: the server's time to render a run's dashboard page (issue 10: under 200 ms for the default
/// experiment's record, about 1,400 events and 7 curves). The record is made here, not imported: the spec is run
/// once through the daemon's own recorder into a scratch database, then the page is rendered as e2hd serves it
/// (`RunPageLoading`: the queue row, the whole stream, the curves, the comparison with its grid and the chain's
/// verdict, then the HTML). The reference, measured in the same run, is what no page can avoid: reading the run's
/// events from the store and decoding them.
struct PageBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "page",
        abstract: "The server time of a run's dashboard page, against reading and decoding its events alone.")

    @Option(help: "The experiment whose record the page shows (experiments/smoke.yaml for a quick look).")
    var spec = "experiments/easy-to-hard.yaml"

    @Option(help: "libpq URL of a server where a scratch database may be created (default: $E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(
        help: """
            A run already recorded in the database --database-url names (an e2hd's own): its page is timed there, \
            read-only, instead of recording --spec first.
            """)
    var run: String?

    @Option(help: "Renders timed, after one untimed.") var renders = 20

    func validate() throws {
        guard (1...1000).contains(renders) else { throw ValidationError("--renders must be between 1 and 1000") }
        if run != nil && databaseURL == nil {
            throw ValidationError("--run needs --database-url: the database that holds the run")
        }
    }

    func run() async throws {
        var logger = Logger(label: "e2h.bench.page")
        logger.logLevel = .warning
        if let run, let databaseURL {
            print("page benchmark: run \(run), recorded; machine: \(MachineDescription.current)")
            let store = try await EventStore(url: databaseURL, connections: 4, logger: logger)
            do {
                try await time(run: run, queue: Self.queue(store, logger: logger), store: store)
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
            return
        }
        let yaml = try String(contentsOfFile: spec, encoding: .utf8)
        let experiment = try ExperimentSpec.parse(yaml: yaml, file: spec)
        print("page benchmark: \(spec) (\(experiment.name)); machine: \(MachineDescription.current)")
        let server = try ScratchDatabase.server(databaseURL)
        try await ScratchDatabase.with(server: server, connections: 4, logger: logger) { _, store in
            try await measure(store, yaml: yaml, experiment: experiment, logger: logger)
        }
    }

    /// Records the spec's run into `store`, then times its page.
    private func measure(
        _ store: EventStore, yaml: String, experiment: ExperimentSpec, logger: Logger
    ) async throws {
        _ = try await Queue.migrate(store)
        let queue = Self.queue(store, logger: logger)
        _ = try await RunSubmission(queue: queue).submit(SubmitRequest(yaml: yaml, file: spec))
        let leases = Leases(queue: queue)
        guard let lease = try await leases.claim(owner: Self.owner) else {
            throw ValidationError("the submitted run could not be claimed")
        }
        let recordingStart = ContinuousClock.now
        let outcome = try await RunExecutor(
            spec: experiment, recorder: LeasedRecorder(lease: lease, leases: leases), threads: nil, logger: logger
        ).run()
        guard case .completed = outcome else { throw ValidationError("the run stopped before completing") }
        print("record made in \(Self.format(SamplingBenchmark.seconds(ContinuousClock.now - recordingStart))) s")
        try await time(run: lease.run, queue: queue, store: store)
    }

    private static let owner = "e2h-bench"

    /// A queue on `store` that is only read from: the page's loader takes one.
    private static func queue(_ store: EventStore, logger: Logger) -> Queue {
        let settings = DaemonSettings(
            stateDirectory: "", databaseURL: nil, host: "", port: 0, workers: 1, lease: .seconds(7 * 24 * 3600),
            heartbeat: .seconds(3600), reaperInterval: .seconds(3600), pollInterval: .seconds(1), maxAttempts: 1,
            backoff: 1, threads: nil, owner: owner)
        return Queue(store: store, settings: settings, metrics: DaemonMetrics(), logger: logger)
    }

    /// Times the page of `run`, recorded in `store`, against reading and decoding its events.
    private func time(run: String, queue: Queue, store: EventStore) async throws {
        let stream = "run-\(run)"
        let events = try await store.readWhole(stream: stream)
        guard !events.isEmpty else { throw ValidationError("no run \(run) in this database") }
        // A curve per stored name (stage, model, metric): what the page draws.
        let curves = Set(try await store.metrics(run: run).map(\.name)).count
        print("record: \(events.count) events, \(curves) curves")

        let loading = RunPageLoading(queue: queue)
        // What the route sends: the page as HTML (its headers are constants).
        let html: () async throws -> String = {
            try await loading.page(run: run, after: 0, pageSize: 100, csrfToken: "bench").render()
        }
        let bytes = try await html().utf8.count
        let rendering = try await Self.milliseconds(renders) { _ = try await html() }
        let decoding = try await Self.milliseconds(renders) {
            let events: [WireEvent] = try await store.readWhole(stream: stream).map(WireEvent.init)
            _ = events
        }
        print("page: \(bytes / 1024) KiB of HTML")
        Figure(
            name: "page-render-run", value: rendering, unit: "ms", target: "< 200 ms (issue 10)", reference: decoding,
            referenceLabel: "ms reading and decoding the run's events alone"
        ).print()
    }

    /// The median of `count` timings of `body`, in milliseconds.
    static func milliseconds(_ count: Int, _ body: () async throws -> Void) async throws -> Double {
        var times: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            try await body()
            times.append(SamplingBenchmark.seconds(ContinuousClock.now - start) * 1000)
        }
        return times.sorted()[times.count / 2]
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
