import ArgumentParser
import Daemon
import EventStore
import Foundation
import Logging
import WireTypes

/// `e2h-bench resume`: how long a crashed run waits for a restarted daemon. Each round queues the spec on a scratch
/// database, lets a real `e2hd` execute it until SFT has saved a checkpoint and trained past it, kills the daemon
/// with SIGKILL, waits until the dead daemon's lease has expired (failure detection is a setting, not a cost of
/// resuming), and starts a fresh `e2hd`: the figure is the time from that start to the resumed attempt's first
/// training step past the checkpoint. The database server is already up, so PostgreSQL's own start is excluded.
struct ResumeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "From an e2hd start with a run killed mid-SFT to the run's first new training step.")

    @Option(help: "The experiment to interrupt (its SFT must outlast its first checkpoint by a few steps).")
    var spec = "experiments/easy-to-hard.yaml"

    @Option(help: "libpq URL of a server where scratch databases may be created (default: $E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "The e2hd binary (default: the one beside this e2h-bench).")
    var e2hd: String?

    @Option(help: "Rounds, each on a fresh database; the figure is their median.")
    var rounds = 3

    func validate() throws {
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be between 1 and 20") }
    }

    /// The restarted daemon's timings: the reaper and the idle poll as often as e2hd allows, a backoff of 0.1 s
    /// before the first retry, and a heartbeat every 0.1 s that stores the run's progress, which is how the first
    /// new step is seen (up to 0.1 s late).
    static let daemonTimings = [
        "--lease-seconds", "1", "--heartbeat-seconds", "0.1", "--reaper-seconds", "0.1", "--poll-seconds", "0.05",
        "--backoff-seconds", "0.1",
    ]

    func run() async throws {
        var logger = Logger(label: "e2h.bench.resume")
        logger.logLevel = .warning
        let binary = try e2hd ?? Self.besideThisExecutable("e2hd")
        let yaml = try String(contentsOfFile: spec, encoding: .utf8)
        print(
            "resume benchmark: \(spec), \(rounds) round(s), e2hd \(Self.daemonTimings.joined(separator: " ")); "
                + "machine: \(MachineDescription.current)")
        let server = try ScratchDatabase.server(databaseURL)
        var resumes: [Double] = []
        var claims: [Double] = []
        for round in 1...rounds {
            let (claimed, resumed) = try await ScratchDatabase.with(server: server, connections: 1, logger: logger) {
                url, store in
                try await measureRound(round, binary: binary, yaml: yaml, url: url, store: store, logger: logger)
            }
            claims.append(claimed)
            resumes.append(resumed)
        }
        Figure(
            name: "resume-to-first-step", value: SamplingBenchmark.median(resumes), unit: "s",
            target: "≤ 2 s", reference: 2, referenceLabel: "s target"
        ).print()
        print(
            "  rounds: " + resumes.map { String(format: "%.2f s", $0) }.joined(separator: ", ")
                + "; of which start to claim (reaper, backoff, claim): "
                + claims.map { String(format: "%.2f s", $0) }.joined(separator: ", "))
    }

    /// Returns (seconds from the restart to the claim, seconds from the restart to the first new step).
    private func measureRound(
        _ round: Int, binary: String, yaml: String, url: String, store: EventStore, logger: Logger
    ) async throws -> (Double, Double) {
        _ = try await Queue.migrate(store)
        let settings = DaemonSettings(
            stateDirectory: "", databaseURL: url, host: "", port: 0, workers: 0, lease: .seconds(1),
            heartbeat: .seconds(1), reaperInterval: .seconds(1), pollInterval: .seconds(1), maxAttempts: 5,
            backoff: 0.1, threads: nil, owner: "e2h-bench")
        let queue = Queue(store: store, settings: settings, metrics: DaemonMetrics(), logger: logger)
        let run = try await RunSubmission(queue: queue).submit(SubmitRequest(yaml: yaml, file: spec)).run.id
        let directory = NSTemporaryDirectory() + "e2h-bench-resume-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let first = try DaemonProcess(binary: binary, directory: directory, databaseURL: url, name: "first")
        let checkpoint: Int64
        do {
            checkpoint = try await waitFor("an SFT checkpoint", daemon: first, timeout: .seconds(600)) {
                let rows = try await store.execute(
                    """
                    SELECT max((payload->>'step')::bigint) AS step FROM events
                    WHERE stream = $1 AND type = 'CheckpointSaved' AND payload->>'stage' = 'sft'
                    """, [.text("run-\(run)")])
                return try rows.int64(0, "step")
            }
            // Killed between two checkpoints, as a crash would be: the steps since the last one are lost.
            _ = try await waitFor("SFT past its checkpoint", daemon: first, timeout: .seconds(600)) {
                try await progress(of: run, store).flatMap {
                    $0.attempt == 1 && ($0.sftStep ?? 0) > checkpoint ? true : nil
                }
            }
        } catch {
            first.crash()
            throw error
        }
        first.crash()
        _ = try await waitFor("the dead daemon's lease to expire", daemon: nil, timeout: .seconds(60)) { () -> Bool? in
            let rows = try await store.execute(
                "SELECT count(*) AS live FROM runs WHERE id = $1 AND lease_expires_at >= now()", [.text(run)])
            return try rows.int64(0, "live") == 0 ? true : nil
        }

        let started = ContinuousClock.now
        let second = try DaemonProcess(binary: binary, directory: directory, databaseURL: url, name: "second")
        defer { second.crash() }
        var claimed: Double?
        _ = try await waitFor("the resumed attempt's first new step", daemon: second, timeout: .seconds(120)) {
            () -> Bool? in
            guard let progress = try await progress(of: run, store) else { return nil }
            if progress.attempt >= 2, claimed == nil {
                claimed = SamplingBenchmark.seconds(ContinuousClock.now - started)
            }
            return progress.attempt >= 2 && (progress.sftStep ?? 0) > checkpoint ? true : nil
        }
        let resumed = SamplingBenchmark.seconds(ContinuousClock.now - started)
        print(
            String(
                format: "  round %d: checkpoint at SFT step %lld, first new step after %.2f s", round, checkpoint,
                resumed))
        return (claimed ?? resumed, resumed)
    }

    /// The attempt executing the run (nil while it is not running) and its latest SFT step, from the progress its
    /// worker's heartbeat stores (nil before the attempt reports one: a requeued run's progress is cleared).
    private func progress(of run: String, _ store: EventStore) async throws -> (attempt: Int64, sftStep: Int64?)? {
        let rows = try await store.execute(
            """
            SELECT attempt, CASE WHEN progress->>'stage' = 'sft' THEN (progress->>'done')::bigint END AS step
            FROM runs WHERE id = $1 AND state = 'running'
            """, [.text(run)])
        guard rows.count == 1, let attempt = try rows.int64(0, "attempt") else { return nil }
        return (attempt, try rows.int64(0, "step"))
    }

    /// Polls `check` every 10 ms until it answers; fails with the daemon's log when it has exited or time is up.
    private func waitFor<T>(
        _ what: String, daemon: DaemonProcess?, timeout: Duration, _ check: () async throws -> T?
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = try await check() { return answer }
            if let daemon, !daemon.isRunning {
                throw ValidationError("e2hd exited while waiting for \(what):\n\(daemon.logTail)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("timed out waiting for \(what):\n\(daemon?.logTail ?? "")")
    }

    static func besideThisExecutable(_ name: String) throws -> String {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError(
                "no \(name) beside e2h-bench at \(path): build it (scripts/bench resume does) or pass --e2hd")
        }
        return path
    }
}

/// One e2hd child process on the benchmark's database, its output in a log file.
private final class DaemonProcess {
    let process: Process
    let logPath: String

    init(binary: String, directory: String, databaseURL: String, name: String) throws {
        logPath = directory + "/\(name).log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw ValidationError("cannot create \(logPath)")
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "--state-dir", directory + "/state", "--database-url", databaseURL, "--port", "0", "--name", name,
                "--log-level", "warning",
            ] + ResumeBenchmark.daemonTimings
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try log.close()
        self.process = process
    }

    var isRunning: Bool { process.isRunning }

    var logTail: String {
        String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000))
    }

    /// SIGKILL, as a crash: nothing is checkpointed or released.
    func crash() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
