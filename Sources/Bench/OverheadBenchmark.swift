import ArgumentParser
import Daemon
import EventStore
import Foundation
import Logging
import Pipeline
import WireTypes

/// `e2h-bench overhead`: what recording costs a run. One spec's pipeline executed twice in this process: into
/// the daemon's own recorder (`LeasedRecorder`: every event, blob and curve point written to PostgreSQL, each
/// write fenced on the run's lease, as a worker writes them) and into the in-memory recorder. The target is
/// recording ≤ 2 % of the run's time, so the figure is the PostgreSQL run's time against the in-memory one's. Then
/// the recorded run is replayed as a replay job's worker replays it (read, re-execute, compare): a replay should
/// cost what the run cost.
struct OverheadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "A run recorded in PostgreSQL (the daemon's fenced recorder) against the same run in memory.")

    @Option(help: "The experiment to run (a smaller one, e.g. experiments/smoke.yaml, for a quick look).")
    var spec = "experiments/easy-to-hard.yaml"

    @Option(help: "libpq URL of a server where a scratch database may be created (default: $E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Compute threads (default: the spec's).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() async throws {
        var logger = Logger(label: "e2h.bench.overhead")
        logger.logLevel = .warning
        let yaml = try String(contentsOfFile: spec, encoding: .utf8)
        let experiment = try ExperimentSpec.parse(yaml: yaml, file: spec)
        print(
            "overhead benchmark: \(spec) (\(experiment.name), seed \(experiment.seed)), "
                + "\(threads ?? experiment.threads) thread(s); machine: \(MachineDescription.current)")
        let server = try ScratchDatabase.server(databaseURL)
        try await ScratchDatabase.with(server: server, connections: 4, logger: logger) { _, store in
            _ = try await Queue.migrate(store)
            // A lease that outlasts any run: the worker's heartbeat (one UPDATE every 15 s) is left out, and
            // every write still passes the fence, as it does in the daemon.
            let settings = DaemonSettings(
                stateDirectory: "", databaseURL: nil, host: "", port: 0, workers: 1, lease: .seconds(7 * 24 * 3600),
                heartbeat: .seconds(3600), reaperInterval: .seconds(3600), pollInterval: .seconds(1), maxAttempts: 1,
                backoff: 1, threads: threads, owner: "e2h-bench")
            let queue = Queue(store: store, settings: settings, metrics: DaemonMetrics(), logger: logger)
            _ = try await RunSubmission(queue: queue).submit(SubmitRequest(yaml: yaml, file: spec))
            let leases = Leases(queue: queue)
            guard let lease = try await leases.claim(owner: settings.owner) else {
                throw ValidationError("the submitted run could not be claimed")
            }

            let memory = InMemoryRecorder()
            let inMemory = try await timedRun(experiment, memory, logger)
            let recorder = LeasedRecorder(lease: lease, leases: leases)
            let recorded = try await timedRun(experiment, recorder, logger)

            // The same run both times, or the comparison means nothing.
            let memoryEvents = await memory.events.map { [$0.type, String(decoding: $0.payload, as: UTF8.self)] }
            let storedEvents = try await recorder.history().map {
                [$0.type, String(decoding: $0.payload, as: UTF8.self)]
            }
            guard memoryEvents == storedEvents else {
                throw ValidationError("the two executions recorded different events: the run is not deterministic")
            }
            let blobBytes = await memory.blobs.values.reduce(0) { $0 + $1.count }
            print(
                "recorded: \(storedEvents.count) events, \(await memory.blobs.count) blobs "
                    + "(\(blobBytes / 1_048_576) MiB), \(await memory.metrics.count) curve points")
            Figure(
                name: "overhead-postgres-recording", value: recorded, unit: "s",
                target: "≤ 1.02x, recording ≤ 2 % of run time", reference: inMemory,
                referenceLabel: "s in-memory recorder, same run"
            ).print()

            // What a replay job's worker does: read the record, re-execute into a scratch recorder, compare.
            let start = ContinuousClock.now
            let outcome = try await RunReplay(store: store, threads: threads, logger: logger).replay(
                run: lease.run, recordedState: .completed, provenance: nil, stop: { nil })
            let replayed = SamplingBenchmark.seconds(ContinuousClock.now - start)
            guard case .verdict(let report) = outcome, report.identical else {
                throw ValidationError("the replay of the recorded run did not verify: \(outcome)")
            }
            Figure(
                name: "overhead-replay-verify", value: replayed, unit: "s", target: "≤ 1.05x the run (issue 11)",
                reference: recorded, referenceLabel: "s the recorded run"
            ).print()
        }
    }

    /// Seconds of one complete execution of `experiment` into `recorder`.
    private func timedRun(
        _ experiment: ExperimentSpec, _ recorder: any RunRecorder, _ logger: Logger
    ) async throws -> Double {
        let start = ContinuousClock.now
        let outcome = try await RunExecutor(spec: experiment, recorder: recorder, threads: threads, logger: logger)
            .run()
        guard case .completed = outcome else { throw ValidationError("the run stopped before completing") }
        return SamplingBenchmark.seconds(ContinuousClock.now - start)
    }
}
