import ArgumentParser
import Daemon
import EventStore
import Foundation
import Logging
import Pipeline
import WireTypes

/// `e2h-bench bundle`: export and import of a small and a large run through the daemon's own bundle code, each
/// with the process's peak resident memory over that operation alone (Linux resets the peak through
/// `/proc/self/clear_refs`). The claim is that both stay flat as the run grows: one blob and one page of events
/// in memory at a time. Runs are synthetic — `--blob-mib` random checkpoints each named by an event, with training
/// curves — written to a scratch database with the daemon's fenced recorder.
struct BundleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Peak RSS of export and import for a small and a large run.")

    @Option(help: "libpq URL of a server where scratch databases may be created (default: $E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Size of each checkpoint blob, MiB.") var blobMib = 16
    @Option(help: "Checkpoints in the small run.") var small = 2
    @Option(help: "Checkpoints in the large run.") var large = 24

    func validate() throws {
        guard (1...256).contains(blobMib), small >= 1, large > small else {
            throw ValidationError("give --blob-mib in 1...256 and --large > --small ≥ 1")
        }
    }

    func run() async throws {
        var logger = Logger(label: "e2h.bench.bundle")
        logger.logLevel = .warning
        let server = try ScratchDatabase.server(databaseURL)
        let directory = NSTemporaryDirectory() + "e2h-bench-bundle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        print(
            "bundle benchmark: runs of \(small) and \(large) checkpoints of \(blobMib) MiB; machine: \(MachineDescription.current)"
        )
        let settings = DaemonSettings(
            stateDirectory: directory, databaseURL: nil, host: "", port: 0, workers: 0, lease: .seconds(7 * 24 * 3600),
            heartbeat: .seconds(3600), reaperInterval: .seconds(3600), pollInterval: .seconds(1), maxAttempts: 1,
            backoff: 1, threads: nil, owner: "e2h-bench")
        var bundles: [(label: String, path: String, bytes: Int64)] = []
        try await ScratchDatabase.with(server: server, connections: 2, logger: logger) { _, store in
            _ = try await Queue.migrate(store)
            let queue = Queue(store: store, settings: settings, metrics: DaemonMetrics(), logger: logger)
            let transfer = try BundleTransfer(queue: queue, stateDirectory: directory)
            for (label, checkpoints) in [("small", small), ("large", large)] {
                let run = try await record(checkpoints: checkpoints, label: label, queue: queue)
                let path = directory + "/\(label).tar"
                let (peak, base) = try await PeakMemory.measure { try await transfer.export(run, to: path) }
                let bytes = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0)
                bundles.append((label, path, bytes))
                Self.report("export", label, bytes: bytes, peak: peak, base: base)
            }
        }
        try await ScratchDatabase.with(server: server, connections: 2, logger: logger) { _, store in
            _ = try await Queue.migrate(store)
            let queue = Queue(store: store, settings: settings, metrics: DaemonMetrics(), logger: logger)
            let transfer = try BundleTransfer(queue: queue, stateDirectory: directory)
            for bundle in bundles {
                let (peak, base) = try await PeakMemory.measure { _ = try await transfer.importBundle(at: bundle.path) }
                Self.report("import", bundle.label, bytes: bundle.bytes, peak: peak, base: base)
            }
        }
    }

    private static func report(_ operation: String, _ label: String, bytes: Int64, peak: Int64, base: Int64) {
        let mib = { (value: Int64) in Double(value) / Double(1 << 20) }
        Figure(
            name: "bundle-\(operation)-\(label)-peak-rss", value: mib(peak), unit: "MiB",
            target: "independent of the run's size", reference: mib(bytes),
            referenceLabel: "MiB bundle (resident before: \(Figure.format(mib(base))) MiB)"
        ).print()
    }

    /// A run with `checkpoints` random blobs, one `CheckpointSaved` event naming each and a training curve, recorded
    /// one blob at a time so that recording it does not raise the figures that follow.
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
            try await recorder.append([
                PipelineEvent(type: "CheckpointSaved", payload: Data(#"{"blob":"\#(hash)","step":\#(step)}"#.utf8))
            ])
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
