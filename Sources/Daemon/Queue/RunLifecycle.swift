import Foundation
import WireTypes

/// A run's life in the queue, decided without I/O: its state, who holds it under which lease, how many attempts it
/// had and how many failed, when a retry may start. The SQL around it only reads a run's row into this value, feeds
/// it one event, and applies the action it returns (in the same transaction, on the locked row), so every state
/// transition, the fence and the backoff are decided here and tested without a database.
struct RunLifecycle: Sendable, Equatable {
    enum State: Sendable, Equatable {
        /// Waiting for its first claim, or for a claim after a resume.
        case queued
        /// Back in the queue after an attempt that did not finish the run; claimable from `notBefore` (backoff).
        case requeued(notBefore: Date)
        case running(Holder)
        case completed
        case failed
        case cancelled

        /// What the queue table and the API call the state.
        var runState: RunState {
            switch self {
            case .queued, .requeued: .queued
            case .running: .running
            case .completed: .completed
            case .failed: .failed
            case .cancelled: .cancelled
            }
        }
    }

    /// The attempt in progress: every write it makes must prove `token` (fencing).
    struct Holder: Sendable, Equatable {
        var owner: String
        var token: Int64
        var expiresAt: Date
        var cancelRequested: Bool
    }

    /// How an attempt ended, as its worker reports it.
    enum AttemptEnding: Sendable, Equatable {
        /// `headline`: what the runs list shows of the run (`RunHeadline`), when it could be computed.
        case completed(summary: String, headline: RunHeadline? = nil)
        /// Stopped for a daemon shutdown: back to the queue at once, not counted as a failure.
        case interrupted(reason: String)
        case cancelled
        /// An error; `retryable` errors are retried with backoff until the attempts run out.
        case failed(reason: String, retryable: Bool)

        /// "that the attempt failed (boom)": what a worker could not record, in the reaper's reason.
        var clause: String {
            switch self {
            case .completed: "that the attempt completed"
            case .interrupted(let reason): "that the attempt was interrupted (\(reason))"
            case .cancelled: "that the attempt was cancelled"
            case .failed(let reason, _): "that the attempt failed (\(reason))"
            }
        }
    }

    /// An attempt's end that its worker could not record (the database refused it, a full disk say) before its
    /// lease ran out, as that worker's daemon remembers it: the reaper of that daemon names it in the expiry's
    /// reason, instead of "worker died or stalled". Another daemon's reaper does not know it.
    struct UnrecordedEnd: Sendable, Equatable {
        /// The attempt's lease token: a note about an earlier attempt says nothing about a later one.
        var token: Int64
        var ending: AttemptEnding
        /// Why it could not be written, as the database said.
        var refusal: String
    }

    enum Event: Sendable, Equatable {
        /// A worker takes the run under a fresh lease token.
        case claim(owner: String, token: Int64, now: Date)
        /// The holder renews its lease.
        case heartbeat(token: Int64, now: Date)
        /// The holder wants to write (events, metric points): the fence.
        case write(token: Int64, now: Date)
        case attemptEnded(token: Int64, AttemptEnding, now: Date)
        /// The reaper looks at the run; `progressed`: the run recorded events since the expired attempt's claim;
        /// `unrecorded`: the holder's end, should its worker have failed to record it on the reaper's daemon.
        case reap(now: Date, progressed: Bool = false, unrecorded: UnrecordedEnd? = nil)
        case cancelRequested(now: Date)
        case resumeRequested(now: Date)
    }

    /// What to write: the lifecycle's new state (already in `self`), an error to add to the run's list, the event
    /// that records the change, and what webhooks are told of it (their outbox is written in the same transaction).
    struct Change: Sendable, Equatable {
        var event: DaemonEvent?
        var error: String?
        var notice: HookTrigger? = nil
    }

    enum Refusal: Sendable, Equatable {
        /// Not queued, or still backing off.
        case notClaimable(State)
        /// The token is not the holder's, or its lease ran out: the writer must stop and write nothing.
        case leaseLost
        /// A cancel of a run that already ended.
        case alreadyEnded(RunState)
        /// A resume of a run that is neither failed nor cancelled.
        case notResumable(RunState)
        /// A resume of a run imported without the checkpoints it would start from (a `--scores-only` bundle).
        case blobsLeftOut
    }

    enum Action: Sendable, Equatable {
        /// Persist the new state and apply `Change`.
        case persist(Change)
        /// The lease holds until `until`; tell the holder whether a cancel was requested.
        case renew(until: Date, cancelRequested: Bool)
        /// The holder's write may go ahead.
        case allowWrite
        /// Nothing changes (the reaper found a live lease).
        case none
        case refuse(Refusal)
    }

    /// The queue's settings every run shares; `maxAttempts` is fixed per run at submission.
    struct Policy: Sendable, Equatable {
        var leaseSeconds: Double
        /// The first retry waits this long; each further failure doubles it, up to `maxBackoffSeconds`.
        var backoffSeconds: Double
        var maxBackoffSeconds: Double = 300

        /// The wait before retrying a run that has failed `failures` times before this failure.
        func backoff(afterFailures failures: Int) -> Double {
            min(backoffSeconds * pow(2, Double(min(failures, 30))), maxBackoffSeconds)
        }
    }

    private(set) var state: State
    /// Claims so far: each claim is an attempt.
    private(set) var attempt: Int
    /// Attempts that ended in an error or an expired lease.
    private(set) var failures: Int
    let maxAttempts: Int
    let policy: Policy
    /// Imported from a `--scores-only` bundle: its record names checkpoints this database never had.
    let blobsLeftOut: Bool

    init(state: State, attempt: Int, failures: Int, maxAttempts: Int, policy: Policy, blobsLeftOut: Bool = false) {
        self.state = state
        self.attempt = attempt
        self.failures = failures
        self.maxAttempts = maxAttempts
        self.policy = policy
        self.blobsLeftOut = blobsLeftOut
    }

    /// A run just submitted.
    static func submitted(maxAttempts: Int, policy: Policy) -> RunLifecycle {
        RunLifecycle(state: .queued, attempt: 0, failures: 0, maxAttempts: maxAttempts, policy: policy)
    }

    /// A run imported from another database in `exported` state: it arrives with no worker, so one that was still
    /// live there is kept stopped, as cancelled (resumable). Returns the state and the error that says why.
    static func imported(_ exported: RunState) -> (state: RunState, error: String?) {
        exported.isFinal ? (exported, nil) : (.cancelled, "imported while \(exported.rawValue)")
    }

    /// When the run's claimability starts: `nil` for a run that is not waiting in the queue.
    var claimableFrom: Date? {
        switch state {
        case .queued: .distantPast
        case .requeued(let notBefore): notBefore
        default: nil
        }
    }

    var holder: Holder? {
        if case .running(let holder) = state { return holder }
        return nil
    }

    /// The fence: is `token` the live holder's at `now`? The one place this is decided.
    func holds(_ token: Int64, at now: Date) -> Bool {
        guard let holder else { return false }
        return holder.token == token && holder.expiresAt > now
    }

    mutating func event(_ event: Event) -> Action {
        switch event {
        case .claim(let owner, let token, let now):
            guard let from = claimableFrom, from <= now else { return .refuse(.notClaimable(state)) }
            attempt += 1
            state = .running(
                Holder(
                    owner: owner, token: token, expiresAt: now + policy.leaseSeconds, cancelRequested: false))
            return .persist(
                Change(event: .claimed(RunClaimed(worker: owner, attempt: attempt, leaseToken: token)), error: nil))

        case .heartbeat(let token, let now):
            guard holds(token, at: now), var holder else { return .refuse(.leaseLost) }
            holder.expiresAt = now + policy.leaseSeconds
            state = .running(holder)
            return .renew(until: holder.expiresAt, cancelRequested: holder.cancelRequested)

        case .write(let token, let now):
            return holds(token, at: now) ? .allowWrite : .refuse(.leaseLost)

        case .attemptEnded(let token, let ending, let now):
            guard holds(token, at: now), let holder else { return .refuse(.leaseLost) }
            return end(holder, ending, now: now)

        case .reap(let now, let progressed, let unrecorded):
            guard let holder, holder.expiresAt <= now else { return .none }
            return expire(
                holder, progressed: progressed, unrecorded: unrecorded.flatMap { $0.token == holder.token ? $0 : nil },
                now: now)

        case .cancelRequested:
            switch state {
            case .queued, .requeued:
                state = .cancelled
                return .persist(
                    Change(
                        event: .cancelled(RunCancelled(reason: "cancelled while queued", worker: nil)), error: nil,
                        notice: .cancelled))
            case .running(var holder):
                // The holder stops at its next look at the flag and records the cancel itself.
                holder.cancelRequested = true
                state = .running(holder)
                return .persist(Change(event: nil, error: nil))
            case .completed, .failed, .cancelled:
                return .refuse(.alreadyEnded(state.runState))
            }

        case .resumeRequested:
            // Before the state: whatever state it is in, such a run can never start again.
            if blobsLeftOut { return .refuse(.blobsLeftOut) }
            switch state {
            case .failed, .cancelled:
                state = .queued
                failures = 0
                return .persist(Change(event: .resumed(RunResumed(reason: "resume requested")), error: nil))
            default:
                return .refuse(.notResumable(state.runState))
            }
        }
    }

    private mutating func end(_ holder: Holder, _ ending: AttemptEnding, now: Date) -> Action {
        let worker = holder.owner
        switch ending {
        case .completed(let summary, let headline):
            state = .completed
            return .persist(
                Change(
                    event: .completed(RunCompleted(summary: summary, headline: headline)), error: nil,
                    notice: .completed))
        case .interrupted(let reason):
            state = .requeued(notBefore: now)
            return .persist(
                Change(
                    event: .interrupted(RunInterrupted(reason: reason, worker: worker, countedAsFailure: false)),
                    error: nil))
        case .cancelled:
            state = .cancelled
            return .persist(
                Change(
                    event: .cancelled(RunCancelled(reason: "cancelled while running", worker: worker)), error: nil,
                    notice: .cancelled))
        case .failed(let reason, let retryable):
            return failure(
                reason: reason, worker: worker, error: "attempt \(attempt): \(reason)", retryable: retryable, now: now)
        }
    }

    /// The lease ran out: the holder died or stalled. A requested cancel wins. An attempt that recorded progress is
    /// requeued without counting a failure, whatever ended it (a kill of the daemon, a stall, a lost machine):
    /// retrying it gets further, so it cannot loop. One that recorded nothing counts — a run that crashes its
    /// daemon at the same place every time is failed after `maxAttempts` of these in a row, not retried for ever.
    private mutating func expire(_ holder: Holder, progressed: Bool, unrecorded: UnrecordedEnd?, now: Date) -> Action {
        let reason =
            if let unrecorded {
                "attempt \(attempt): the lease of \(holder.owner) expired after its worker could not record "
                    + "\(unrecorded.ending.clause): \(unrecorded.refusal)"
            } else {
                "attempt \(attempt): the lease of \(holder.owner) expired (worker died or stalled)"
            }
        if holder.cancelRequested {
            state = .cancelled
            return .persist(
                Change(event: .cancelled(RunCancelled(reason: reason, worker: nil)), error: reason, notice: .cancelled))
        }
        if progressed {
            failures = 0
            state = .requeued(notBefore: now)
            let interrupted = reason + " after recording progress; not counted as a failure"
            return .persist(
                Change(
                    event: .interrupted(RunInterrupted(reason: interrupted, worker: nil, countedAsFailure: false)),
                    error: interrupted, notice: .stalled))
        }
        return failure(reason: reason, worker: nil, error: reason, retryable: true, now: now, crashLoop: true)
    }

    /// Counts a failure: back to the queue after its backoff (`RunInterrupted`), or failed (`RunFailed`) when retrying
    /// cannot help or the attempts ran out.
    private mutating func failure(
        reason: String, worker: String?, error: String, retryable: Bool, now: Date, crashLoop: Bool = false
    ) -> Action {
        let backoff = policy.backoff(afterFailures: failures)
        failures += 1
        guard retryable, failures < maxAttempts else {
            state = .failed
            var reason = reason
            var error = error
            if crashLoop && retryable {
                let loop =
                    "; \(failures) attempts in a row ended without recording any progress (a crash loop): the run is "
                    + "failed rather than retried for ever — find the cause in the daemon's log, then `e2h resume` it"
                reason += loop
                error += loop
            }
            return .persist(
                Change(event: .failed(RunFailed(reason: reason, worker: worker)), error: error, notice: .failed))
        }
        state = .requeued(notBefore: now + backoff)
        let requeued = RunInterrupted(reason: reason, worker: worker, countedAsFailure: true)
        // Only an expired lease is a stall; a retryable error the worker reported is not.
        return .persist(Change(event: .interrupted(requeued), error: error, notice: crashLoop ? .stalled : nil))
    }
}
