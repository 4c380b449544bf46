import ArgumentParser
import Daemon
import EventStore
import Foundation
import Logging
import Pipeline
import WireTypes

/// `e2h-bench bundle`: export and import of a small and a large run through the daemon's own bundle code, each
/// in a fresh process of its own (this binary again), whose peak resident memory over the operation is the figure
/// (Linux resets the peak through `/proc/self/clear_refs` once the process is connected). The claim is that both stay
/// flat as the run grows: one blob and one page of events in memory at a time. Runs are synthetic — `--blob-mib`
/// random checkpoints each named by an event, with training curves — written to a scratch database with the
/// daemon's fenced recorder.
struct BundleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Peak RSS of export and import for a small and a large run.")

    @Option(help: "libpq URL of a server where scratch databases may be created (default: $E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Size of each checkpoint blob, MiB.") var blobMib = 16
    @Option(help: "Checkpoints in the small run.") var small = 2
    @Option(help: "Checkpoints in the large run.") var large = 24

    /// One measured operation, in the child process: `export RUN PATH` or `import PATH`, on `--database`.
    @Option(parsing: .upToNextOption, help: .hidden) var step: [String] = []
    @Option(help: .hidden) var database: String?
    @Option(help: .hidden) var stateDirectory: String?

    func validate() throws {
        guard (1...256).contains(blobMib), small >= 1, large > small else {
            throw ValidationError("give --blob-mib in 1...256 and --large > --small ≥ 1")
        }
    }

    static func settings(_ directory: String) -> DaemonSettings {
        DaemonSettings(
            stateDirectory: directory, databaseURL: nil, host: "", port: 0, workers: 0, lease: .seconds(7 * 24 * 3600),
            heartbeat: .seconds(3600), reaperInterval: .seconds(3600), pollInterval: .seconds(1), maxAttempts: 1,
            backoff: 1, threads: nil, owner: "e2h-bench")
    }

    func run() async throws {
        var logger = Logger(label: "e2h.bench.bundle")
        logger.logLevel = .warning
        if !step.isEmpty {
            try await measureStep(logger: logger)
            return
        }
        let server = try ScratchDatabase.server(databaseURL)
        let directory = NSTemporaryDirectory() + "e2h-bench-bundle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        print(
            "bundle benchmark: runs of \(small) and \(large) checkpoints of \(blobMib) MiB, each operation in a process "
                + "of its own; machine: \(MachineDescription.current)")
        var bundles: [(label: String, path: String, bytes: Int64)] = []
        try await ScratchDatabase.with(server: server, connections: 2, logger: logger) { url, store in
            _ = try await Queue.migrate(store)
            let queue = Queue(
                store: store, settings: Self.settings(directory), metrics: DaemonMetrics(), logger: logger)
            for (label, checkpoints) in [("small", small), ("large", large)] {
                let run = try await record(checkpoints: checkpoints, label: label, queue: queue)
                let path = directory + "/\(label).tar"
                let (peak, base) = try Self.inChild(["export", run, path], database: url, directory: directory)
                let bytes = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0)
                bundles.append((label, path, bytes))
                Self.report("export", label, bytes: bytes, peak: peak, base: base)
            }
        }
        try await ScratchDatabase.with(server: server, connections: 1, logger: logger) { url, store in
            _ = try await Queue.migrate(store)
            for bundle in bundles {
                let (peak, base) = try Self.inChild(["import", bundle.path], database: url, directory: directory)
                Self.report("import", bundle.label, bytes: bundle.bytes, peak: peak, base: base)
            }
        }
    }

    /// Runs one step in a fresh process of this binary; returns its (peak, base) in bytes.
    private static func inChild(
        _ step: [String], database: String, directory: String
    ) throws -> (peak: Int64, base: Int64) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments =
            ["bundle", "--database", database, "--state-directory", directory, "--step"] + step
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = output.split(whereSeparator: \.isWhitespace)
        guard process.terminationStatus == 0, fields.count >= 4, fields[0] == "peak",
            let peak = Int64(fields[1]), let base = Int64(fields[3])
        else {
            throw ValidationError("the \(step[0]) step failed (\(process.terminationStatus)): \(output)")
        }
        return (peak, base)
    }

    /// The child's side: connect, reset the peak, do the one step, print "peak BYTES base BYTES".
    private func measureStep(logger: Logger) async throws {
        guard let database, let stateDirectory else {
            throw ValidationError("--step needs --database and --state-directory")
        }
        let store = try await EventStore(url: database, connections: 2, logger: logger)
        let queue = Queue(
            store: store, settings: Self.settings(stateDirectory), metrics: DaemonMetrics(), logger: logger)
        let transfer = try BundleTransfer(queue: queue, stateDirectory: stateDirectory)
        let measured: (peak: Int64, base: Int64)
        switch step.first {
        case "export" where step.count == 3:
            measured = try await PeakMemory.measure { try await transfer.export(step[1], to: step[2]) }
        case "import" where step.count == 2:
            measured = try await PeakMemory.measure { _ = try await transfer.importBundle(at: step[1]) }
        default:
            await store.shutdown()
            throw ValidationError("--step is `export RUN PATH` or `import PATH`")
        }
        await store.shutdown()
        print("peak \(measured.peak) base \(measured.base)")
    }

    private static func report(_ operation: String, _ label: String, bytes: Int64, peak: Int64, base: Int64) {
        let mib = { (value: Int64) in Double(value) / Double(1 << 20) }
        Figure(
            name: "bundle-\(operation)-\(label)-peak-rss", value: mib(peak), unit: "MiB",
            target: "independent of the run's size", reference: mib(bytes),
            referenceLabel: "MiB bundle (resident before: \(Figure.format(mib(base))) MiB)"
        ).print()
    }

    /// A run with `checkpoints` random blobs, one `CheckpointSaved` event naming each and a training curve.
    private func record(checkpoints: Int, label: String, queue: Queue) async throws -> String {
        let submitted = try await RunSubmission(queue: queue).submit(
            SubmitRequest(yaml: "name: bundle-\(label)\nseed: \(checkpoints)\n", file: "bundle.yaml"))
        guard let lease = try await Leases(queue: queue).claim(owner: "e2h-bench") else {
            throw ValidationError("the submitted run could not be claimed")
        }
        let recorder = LeasedRecorder(lease: lease, leases: Leases(queue: queue))
        var generator = SystemRandomNumberGenerator()
        for step in 0..<checkpoints {
            var blob = Data(count: blobMib << 20)
            blob.withUnsafeMutableBytes { bytes in
                for index in stride(from: 0, to: bytes.count, by: 8) {
                    bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: index, as: UInt64.self)
                }
            }
            let hash = try await recorder.putBlob(blob)
            // A checkpoint as the pipeline records it: the export reads the record's blobs from these fields.
            let checkpoint = #"{"blob":"\#(hash)","model":"policy","reason":"interval","stage":"sft","step":\#(step)}"#
            try await recorder.append([PipelineEvent(type: "CheckpointSaved", payload: Data(checkpoint.utf8))])
            try await recorder.recordMetrics(
                (0..<100).map { TrainingMetric(name: "sft/loss", step: step * 100 + $0, value: 1 / Double($0 + 1)) })
        }
        return submitted.run.id
    }
}

/// The process's peak resident memory over one operation (Linux: reset through /proc/self/clear_refs, read as VmHWM).
enum PeakMemory {
    /// (peak during `body`, resident before it), bytes.
    static func measure(_ body: () async throws -> Void) async throws -> (peak: Int64, base: Int64) {
        guard FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs") else {
            throw ValidationError("peak memory is measured through /proc/self/clear_refs (Linux)")
        }
        try Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
        let base = try status("VmRSS")
        try await body()
        return (try status("VmHWM"), base)
    }

    private static func status(_ field: String) throws -> Int64 {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kib = Int64(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        else {
            throw ValidationError("/proc/self/status has no \(field)")
        }
        return kib * 1024
    }
}
