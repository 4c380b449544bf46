import EventStore
import Foundation
import Logging
import NeuralEngine
import Pipeline
import ServiceLifecycle
import Synchronization
import WireTypes

/// This daemon's workers: each claims a run, executes it under a heartbeat-renewed lease, and records how the
/// attempt ended. On graceful shutdown they stop claiming, ask running executors to checkpoint and return, and
/// release their leases (`RunInterrupted`), so any daemon can resume the runs.
final class WorkerPool: Service, Sendable {
    let leases: Leases
    private let draining = Mutex(false)
    private let active = Mutex([String: LeasedRecorder]())
    /// Woken when a run becomes claimable (NOTIFY): idle workers claim at once instead of at their next poll.
    let runnable = WakeSignal()
    /// The machine's cores, shared by the runs this daemon executes side by side (see `CoreShare`).
    private let cores = CoreShare()

    init(queue: Queue) {
        leases = Leases(queue: queue)
    }

    var settings: DaemonSettings { leases.queue.settings }
    var logger: Logger { leases.queue.logger }

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
            let seen = runnable.generation
            do {
                if let lease = try await leases.claim(owner: owner) {
                    await execute(lease)
                    continue
                }
            } catch {
                logger.error("claiming failed; retrying", metadata: ["error": "\(error)"])
            }
            // Until a submit's notification, or the next poll: a notification can be lost.
            await cancelWhenGracefulShutdown {
                await self.runnable.wait(after: seen, timeout: self.settings.pollInterval)
            }
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
            await record(
                lease, .failed(reason: "the recorded spec does not decode: \(error)", retryable: false), logger)
            return
        }
        let recorder = LeasedRecorder(lease: lease, leases: leases)
        active.withLock { $0[lease.run] = recorder }
        defer { _ = active.withLock { $0.removeValue(forKey: lease.run) } }
        // A shutdown that began between the claim and here: checkpoint-and-stop applies to this run too.
        if isDraining { recorder.requestStop(.shutdown) }

        let heartbeat = Task { await self.heartbeat(lease, recorder, logger) }
        defer { heartbeat.cancel() }
        let threads = settings.threads
        let runLogger = logger
        let result: Result<JobOutcome, any Error>
        do {
            // The executor hops onto its own compute pool's thread; the orchestration here stays light.
            let outcome: JobOutcome
            if let original = lease.replayOf {
                outcome = try await self.replay(original, lease, recorder, threads: threads, runLogger)
            } else {
                switch try await RunExecutor(
                    spec: spec, recorder: recorder, threads: threads, share: cores, logger: runLogger
                ).run()
                {
                case .completed(let summary):
                    outcome = .completed(
                        summary: summary.table(),
                        headline: await self.headline(lease.run, spec: spec, summary: summary, runLogger))
                case .stopped(let reason): outcome = .stopped(reason)
                }
            }
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
        case .success(.completed(let summary, let headline)):
            await record(
                lease, .completed(summary: summary, headline: headline),
                release: await retentionRelease(lease, spec.retention ?? settings.retention, logger),
                logger)
        case .success(.stopped(.shutdown)):
            await record(lease, .interrupted(reason: "daemon \(lease.owner) shut down"), logger)
        case .success(.stopped(.cancelled)):
            await record(lease, .cancelled, logger)
        case .failure(let error) where isDraining && error is CancellationError:
            await record(lease, .interrupted(reason: "daemon \(lease.owner) shut down mid-step"), logger)
        case .failure(let error):
            // Retrying cannot fix a diverged training run, a spec the pipeline rejects, or a record whose blobs are
            // gone or unreadable (each try failed at the same blob).
            let final =
                (error as? PipelineError).map { [.divergence, .invalidSpec, .corruptHistory].contains($0.code) }
                ?? false
            logger.error("attempt failed", metadata: ["error": "\(error)"])
            await record(lease, .failed(reason: "\(error)", retryable: !final), logger)
        }
    }

    /// A replay job: re-executes `original` and records the verdict in the job's stream, fenced on its lease.
    private func replay(
        _ original: String, _ lease: Lease, _ recorder: LeasedRecorder, threads: Int?, _ logger: Logger
    ) async throws -> JobOutcome {
        let state = try await RunCatalog(queue: leases.queue).details(original).state
        let replay = RunReplay(store: leases.queue.store, threads: threads, share: cores, logger: logger)
        switch try await replay.replay(
            run: original, recordedState: state, provenance: lease.provenance, stop: { recorder.currentStop })
        {
        case .stopped(let reason):
            return .stopped(reason)
        case .verdict(let report):
            try await leases.appendFenced(
                lease,
                [
                    try DaemonEvent.replayed(RunReplayed(report: report)).recorded(
                        by: .init(worker: lease.owner, attempt: lease.attempt))
                ], progress: nil)
            return .completed(summary: report.summary, headline: nil)
        }
    }

    /// The completed run's headline; nil, with the reason logged, when it cannot be computed (a `report:` row the
    /// run did not record): the run still completes, and `compare` says what is wrong.
    private func headline(
        _ run: String, spec: ExperimentSpec, summary: RunSummary, _ logger: Logger
    ) async -> RunHeadline? {
        do {
            return try await CompletionHeadline(store: leases.queue.store).headline(
                run: run, spec: spec, summary: summary)
        } catch {
            logger.warning("the completed run has no headline", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// What retention prunes from a run that just completed (a replay job has no blobs); nil when nothing, or when
    /// the record cannot be read for it — then the run completes unpruned, and `e2h gc` tries again.
    private func retentionRelease(
        _ lease: Lease, _ mode: RetentionMode, _ logger: Logger
    ) async -> RetentionCollector.Release? {
        guard lease.replayOf == nil, mode != .keepAll else { return nil }
        do {
            return try await RetentionCollector(queue: leases.queue, mode: mode).releaseAtCompletion(of: lease.run)
        } catch {
            logger.error("retention: the completed run is left unpruned", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Records how the attempt ended, fenced on its lease.
    private func record(
        _ lease: Lease, _ ending: RunLifecycle.AttemptEnding, release: RetentionCollector.Release? = nil,
        _ logger: Logger
    ) async {
        // A refused write (a full disk, a database restarting) is tried again for as long as the lease can last;
        // each refusal is noted for this daemon's reaper, which names it should the lease run out first.
        let givingUp = ContinuousClock.now + settings.lease
        var pause = Duration.seconds(1)
        var refused = false
        while true {
            do {
                try await leases.finish(lease, ending, release: release)
                leases.queue.unrecordedEnds.forget([lease.run])
                if let release {
                    logger.info("retention: released \(release.hashes.count) blob(s) of the completed run")
                }
                return
            } catch let error as EventStoreError where error.code == .fenced {
                leases.queue.metrics.writeFenced()
                if refused {
                    // `givingUp` counts from this attempt's end, the lease from its last renewal: the lease can run
                    // out between two tries. The note stays for the reaper, which names the end.
                    logger.error(
                        "could not record the attempt's end; giving up, the lease expired while it was refused")
                } else {
                    logger.warning(
                        "lease lost before the attempt's end could be recorded; another attempt owns the run")
                }
                return
            } catch {
                refused = true
                leases.queue.unrecordedEnds.note(
                    .init(token: lease.token, ending: ending, refusal: "\(error)"), of: lease.run)
                guard !Task.isCancelled, ContinuousClock.now + pause < givingUp else {
                    // The lease then expires and the reaper requeues the run: it resumes from its last checkpoint.
                    logger.error(
                        "could not record the attempt's end; giving up, the lease will expire",
                        metadata: ["error": "\(error)"])
                    return
                }
                logger.warning(
                    "could not record the attempt's end; trying again",
                    metadata: ["error": "\(error)", "in": "\(pause)"])
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(8))
            }
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
                switch try await leases.heartbeat(lease, progress: recorder.reportedProgress) {
                case .lost:
                    leases.queue.metrics.writeFenced()
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

/// How a job's execution ended, a run's or a replay's.
enum JobOutcome: Sendable {
    /// `headline`: nil for a replay job, and for a run whose headline could not be computed.
    case completed(summary: String, headline: RunHeadline?)
    case stopped(StopReason)
}
