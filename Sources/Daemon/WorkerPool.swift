import EventStore
import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import Synchronization

/// This daemon's workers: each claims a run, executes it under a heartbeat-renewed lease, and records how the
/// attempt ended. On graceful shutdown they stop claiming, ask running executors to checkpoint and return, and
/// release their leases (`RunInterrupted`), so any daemon can resume the runs.
final class WorkerPool: Service, Sendable {
    let queue: RunQueue
    let settings: DaemonSettings
    let logger: Logger
    private let draining = Mutex(false)
    private let active = Mutex([String: LeasedRecorder]())

    init(queue: RunQueue, settings: DaemonSettings, logger: Logger) {
        self.queue = queue
        self.settings = settings
        self.logger = logger
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<settings.workers {
                    group.addTask { await self.workerLoop(index: index) }
                }
            }
        } onGracefulShutdown: {
            self.drain()
        }
        logger.info("workers stopped")
    }

    private func drain() {
        draining.withLock { $0 = true }
        let recorders = active.withLock { Array($0.values) }
        if !recorders.isEmpty { logger.info("shutting down: asking \(recorders.count) run(s) to checkpoint and stop") }
        for recorder in recorders { recorder.requestStop(.shutdown) }
    }

    private var isDraining: Bool { draining.withLock { $0 } }

    /// The owner's side of a cancel: stops a run this daemon executes without waiting for the next heartbeat.
    func cancelLocally(run: String) {
        active.withLock { $0[run] }?.requestStop(.cancelled)
    }

    private func workerLoop(index: Int) async {
        let owner = settings.workers == 1 ? settings.owner : "\(settings.owner)/\(index)"
        while !isDraining && !Task.isCancelled {
            do {
                if let lease = try await queue.claim(owner: owner) {
                    await execute(lease)
                    continue
                }
            } catch {
                logger.error("claiming failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.settings.pollInterval) }
        }
    }

    private func execute(_ lease: Lease) async {
        var logger = self.logger
        logger[metadataKey: "run"] = "\(lease.run)"
        logger[metadataKey: "attempt"] = "\(lease.attempt)"
        let spec: ExperimentSpec
        do {
            spec = try ExperimentSpec(canonicalJSON: lease.canonicalSpec)
        } catch {
            await record(lease, .failed(reason: "the recorded spec does not decode: \(error)"), final: true, logger)
            return
        }
        let recorder = LeasedRecorder(lease: lease, queue: queue, spec: spec)
        active.withLock { $0[lease.run] = recorder }
        defer { _ = active.withLock { $0.removeValue(forKey: lease.run) } }
        // A shutdown that began between the claim and here: checkpoint-and-stop applies to this run too.
        if isDraining { recorder.requestStop(.shutdown) }

        let heartbeat = Task { await self.heartbeat(lease, recorder, logger) }
        defer { heartbeat.cancel() }
        let threads = settings.threads
        let runLogger = logger
        let result: Result<RunOutcome, any Error>
        do {
            let outcome = try await RunExecutor(spec: spec, recorder: recorder, threads: threads, logger: runLogger)
                .run()
            result = .success(outcome)
        } catch {
            result = .failure(error)
        }
        heartbeat.cancel()

        if recorder.isLeaseLost {
            logger.warning("lease lost: attempt abandoned, nothing more written")
            return
        }
        switch result {
        case .success(.completed(let summary)):
            await record(lease, .completed(summary: summary.table()), final: false, logger)
        case .success(.stopped(.shutdown)):
            await record(lease, .interrupted(reason: "daemon \(lease.owner) shut down"), final: false, logger)
        case .success(.stopped(.cancelled)):
            await record(lease, .cancelled, final: false, logger)
        case .failure(let error) where isDraining && error is CancellationError:
            await record(lease, .interrupted(reason: "daemon \(lease.owner) shut down mid-step"), final: false, logger)
        case .failure(let error):
            let final = (error as? PipelineError).map { $0.code == .divergence || $0.code == .invalidSpec } ?? false
            logger.error("attempt failed", metadata: ["error": "\(error)"])
            await record(lease, .failed(reason: "\(error)"), final: final, logger)
        }
    }

    private func record(_ lease: Lease, _ ending: AttemptEnding, final: Bool, _ logger: Logger) async {
        do {
            try await queue.finish(lease, ending, final: final)
        } catch let error as EventStoreError where error.code == .fenced {
            logger.warning("lease lost before the attempt's end could be recorded; another attempt owns the run")
        } catch {
            // The lease then expires and the reaper requeues the run: it resumes from its last checkpoint.
            logger.error("could not record the attempt's end", metadata: ["error": "\(error)"])
        }
    }

    /// Renews the lease every `heartbeat` and relays a cancel request; a lost lease stops the executor.
    private func heartbeat(_ lease: Lease, _ recorder: LeasedRecorder, _ logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: settings.heartbeat)
            } catch {
                return
            }
            do {
                switch try await queue.heartbeat(lease, progress: recorder.progress) {
                case .lost:
                    logger.warning("lease lost (expired or taken over): stopping the attempt")
                    recorder.leaseLost()
                    return
                case .renewed(let cancelRequested):
                    if cancelRequested { recorder.requestStop(.cancelled) }
                }
            } catch {
                // A database blip: keep trying until the lease runs out; the fence protects the run meanwhile.
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Sweeps for runs whose lease expired, on every daemon.
struct Reaper: Service {
    let queue: RunQueue
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                _ = try await queue.reap()
            } catch {
                logger.error("reaper sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
