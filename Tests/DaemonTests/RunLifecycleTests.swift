import Foundation
import Testing
import WireTypes

@testable import Daemon

/// The run lifecycle without a database: every transition it allows, every one it refuses, the fence and the
/// backoff.
@Suite("Run lifecycle")
struct RunLifecycleTests {
    typealias Lifecycle = RunLifecycle
    static let policy = Lifecycle.Policy(leaseSeconds: 30, backoffSeconds: 5)
    static let now = Date(timeIntervalSince1970: 1_000_000)
    static let token: Int64 = 41

    static func run(_ state: Lifecycle.State, attempt: Int = 1, failures: Int = 0, maxAttempts: Int = 3) -> Lifecycle {
        Lifecycle(state: state, attempt: attempt, failures: failures, maxAttempts: maxAttempts, policy: policy)
    }

    static func holder(expiresIn seconds: Double = 10, cancelRequested: Bool = false) -> Lifecycle.Holder {
        Lifecycle.Holder(
            owner: "w", token: token, expiresAt: now + seconds, cancelRequested: cancelRequested)
    }

    /// A transition the lifecycle allows: where it starts, what happens, where it ends, what it records.
    struct Transition: Sendable, CustomTestStringConvertible {
        var name: String
        var from: Lifecycle
        var event: Lifecycle.Event
        var to: Lifecycle.State
        var recorded: DaemonEventType?
        var error: String? = nil
        var failures: Int? = nil
        /// What webhooks are told: a run's end, or a stall (an expired lease that requeues the run).
        var notice: HookTrigger? = nil
        var testDescription: String { name }
    }

    static let transitions: [Transition] = [
        Transition(
            name: "a queued run is claimed", from: run(.queued, attempt: 0),
            event: .claim(owner: "w", token: token, now: now),
            to: .running(holder(expiresIn: 30)), recorded: .claimed),
        Transition(
            name: "a requeued run is claimed once its backoff is over", from: run(.requeued(notBefore: now - 1)),
            event: .claim(owner: "w", token: token, now: now), to: .running(holder(expiresIn: 30)), recorded: .claimed),
        Transition(
            name: "a completed attempt completes the run", from: run(.running(holder())),
            event: .attemptEnded(token: token, .completed(summary: "table"), now: now), to: .completed,
            recorded: .completed, notice: .completed),
        Transition(
            name: "a shutdown requeues at once without counting a failure", from: run(.running(holder())),
            event: .attemptEnded(token: token, .interrupted(reason: "shutdown"), now: now),
            to: .requeued(notBefore: now), recorded: .interrupted, failures: 0),
        Transition(
            name: "a cancelled attempt cancels the run", from: run(.running(holder(cancelRequested: true))),
            event: .attemptEnded(token: token, .cancelled, now: now), to: .cancelled, recorded: .cancelled,
            notice: .cancelled),
        Transition(
            name: "a retryable failure requeues after the backoff", from: run(.running(holder())),
            event: .attemptEnded(token: token, .failed(reason: "boom", retryable: true), now: now),
            to: .requeued(notBefore: now + 5), recorded: .interrupted, error: "attempt 1: boom", failures: 1),
        Transition(
            name: "the backoff doubles with each failure",
            from: run(
                .running(holder()), attempt: 3, failures: 2,
                maxAttempts: 5),
            event: .attemptEnded(token: token, .failed(reason: "boom", retryable: true), now: now),
            to: .requeued(notBefore: now + 20), recorded: .interrupted, error: "attempt 3: boom", failures: 3),
        Transition(
            name: "the last attempt's failure fails the run", from: run(.running(holder()), attempt: 3, failures: 2),
            event: .attemptEnded(token: token, .failed(reason: "boom", retryable: true), now: now), to: .failed,
            recorded: .failed, error: "attempt 3: boom", failures: 3, notice: .failed),
        Transition(
            name: "a failure retrying cannot fix fails the run at once", from: run(.running(holder())),
            event: .attemptEnded(token: token, .failed(reason: "diverged", retryable: false), now: now), to: .failed,
            recorded: .failed, error: "attempt 1: diverged", failures: 1, notice: .failed),
        Transition(
            name: "an expired lease is requeued as a failure", from: run(.running(holder(expiresIn: -1))),
            event: .reap(now: now), to: .requeued(notBefore: now + 5), recorded: .interrupted,
            error: "attempt 1: the lease of w expired (worker died or stalled)", failures: 1, notice: .stalled),
        Transition(
            name: "an expired lease of the last attempt fails the run",
            from: run(.running(holder(expiresIn: -1)), attempt: 3, failures: 2), event: .reap(now: now),
            to: .failed, recorded: .failed,
            error: "attempt 3: the lease of w expired (worker died or stalled); 3 attempts in a row ended without "
                + "recording any progress (a crash loop): the run is failed rather than retried for ever — find the "
                + "cause in the daemon's log, then `e2h resume` it",
            failures: 3, notice: .failed),
        Transition(
            name: "an expired lease after progress is requeued at once and restarts the count",
            from: run(.running(holder(expiresIn: -1)), attempt: 3, failures: 2),
            event: .reap(now: now, progressed: true), to: .requeued(notBefore: now), recorded: .interrupted,
            error: "attempt 3: the lease of w expired (worker died or stalled) after recording progress; not counted "
                + "as a failure",
            failures: 0, notice: .stalled),
        Transition(
            name: "an expired lease with a cancel requested cancels the run",
            from: run(.running(holder(expiresIn: -1, cancelRequested: true))), event: .reap(now: now),
            to: .cancelled, recorded: .cancelled, error: "attempt 1: the lease of w expired (worker died or stalled)",
            notice: .cancelled),
        Transition(
            name: "an expired lease whose worker could not record its end names that end and the refusal",
            from: run(.running(holder(expiresIn: -1, cancelRequested: true))),
            event: .reap(
                now: now, unrecorded: .init(token: token, ending: .cancelled, refusal: "No space left on device")),
            to: .cancelled, recorded: .cancelled,
            error: "attempt 1: the lease of w expired after its worker could not record that the attempt was "
                + "cancelled: No space left on device",
            notice: .cancelled),
        Transition(
            name: "an unrecorded end of another attempt says nothing about this one",
            from: run(.running(holder(expiresIn: -1))),
            event: .reap(
                now: now, progressed: true,
                unrecorded: .init(
                    token: token - 1, ending: .failed(reason: "boom", retryable: true), refusal: "disk full")),
            to: .requeued(notBefore: now), recorded: .interrupted,
            error: "attempt 1: the lease of w expired (worker died or stalled) after recording progress; not counted "
                + "as a failure",
            notice: .stalled),
        Transition(
            name: "a queued run is cancelled at once", from: run(.queued, attempt: 0),
            event: .cancelRequested(now: now), to: .cancelled, recorded: .cancelled, notice: .cancelled),
        Transition(
            name: "a run backing off is cancelled at once", from: run(.requeued(notBefore: now + 60)),
            event: .cancelRequested(now: now), to: .cancelled, recorded: .cancelled, notice: .cancelled),
        Transition(
            name: "a running run is flagged for its holder", from: run(.running(holder())),
            event: .cancelRequested(now: now), to: .running(holder(cancelRequested: true)), recorded: nil),
        Transition(
            name: "a failed run resumes with a fresh budget", from: run(.failed, attempt: 3, failures: 3),
            event: .resumeRequested(now: now), to: .queued, recorded: .resumed, failures: 0),
        Transition(
            name: "a cancelled run resumes", from: run(.cancelled), event: .resumeRequested(now: now), to: .queued,
            recorded: .resumed),
    ]

    @Test(arguments: transitions)
    func allowed(_ transition: Transition) {
        var lifecycle = transition.from
        guard case .persist(let change) = lifecycle.event(transition.event) else {
            Issue.record("\(transition.name): not persisted")
            return
        }
        #expect(lifecycle.state == transition.to)
        #expect(change.event?.type == transition.recorded)
        #expect(change.error == transition.error)
        #expect(change.notice == transition.notice)
        if let failures = transition.failures { #expect(lifecycle.failures == failures) }
        if case .claim = transition.event {
            #expect(lifecycle.attempt == transition.from.attempt + 1)
            #expect(
                change.event
                    == .claimed(RunClaimed(worker: "w", attempt: lifecycle.attempt, leaseToken: Self.token)))
        } else {
            #expect(lifecycle.attempt == transition.from.attempt)
        }
    }

    /// An event the lifecycle refuses, and why; a refusal changes nothing.
    struct Refused: Sendable, CustomTestStringConvertible {
        var name: String
        var from: Lifecycle
        var event: Lifecycle.Event
        var refusal: Lifecycle.Refusal
        var testDescription: String { name }
    }

    static let refusals: [Refused] = {
        let ended: [Lifecycle.State] = [.completed, .failed, .cancelled]
        let claimOf = Lifecycle.Event.claim(owner: "x", token: 99, now: now)
        var cases: [Refused] = []
        for state in ended + [.running(holder())] {
            cases.append(
                Refused(
                    name: "no claim of a \(state.runState.rawValue) run", from: run(state), event: claimOf,
                    refusal: .notClaimable(state)))
        }
        cases.append(
            Refused(
                name: "no claim during the backoff", from: run(.requeued(notBefore: now + 1)), event: claimOf,
                refusal: .notClaimable(.requeued(notBefore: now + 1))))
        for state in ended {
            cases.append(
                Refused(
                    name: "no cancel of a \(state.runState.rawValue) run", from: run(state),
                    event: .cancelRequested(now: now), refusal: .alreadyEnded(state.runState)))
        }
        for state in [Lifecycle.State.queued, .requeued(notBefore: now), .running(holder()), .completed] {
            cases.append(
                Refused(
                    name: "no resume of a \(state.runState.rawValue) run", from: run(state),
                    event: .resumeRequested(now: now), refusal: .notResumable(state.runState)))
        }
        for state in ended {
            cases.append(
                Refused(
                    name: "no resume of a \(state.runState.rawValue) run imported without its checkpoints",
                    from: Lifecycle(
                        state: state, attempt: 1, failures: 0, maxAttempts: 3, policy: policy, blobsLeftOut: true),
                    event: .resumeRequested(now: now), refusal: .blobsLeftOut))
        }
        // The fence: a stranger's token, an expired lease, a run nobody holds.
        let holderWrites: [(String, Lifecycle.Event)] = [
            ("heartbeat", .heartbeat(token: token, now: now)), ("write", .write(token: token, now: now)),
            ("end", .attemptEnded(token: token, .completed(summary: ""), now: now)),
        ]
        let strangerWrites: [(String, Lifecycle.Event)] = [
            ("heartbeat", .heartbeat(token: 7, now: now)), ("write", .write(token: 7, now: now)),
            ("end", .attemptEnded(token: 7, .completed(summary: ""), now: now)),
        ]
        for (kind, event) in strangerWrites {
            cases.append(
                Refused(
                    name: "a stranger's \(kind) is fenced", from: run(.running(holder())), event: event,
                    refusal: .leaseLost))
        }
        for (kind, event) in holderWrites {
            cases.append(
                Refused(
                    name: "an expired holder's \(kind) is fenced", from: run(.running(holder(expiresIn: 0))),
                    event: event, refusal: .leaseLost))
            for state in ended + [.queued, .requeued(notBefore: now)] {
                cases.append(
                    Refused(
                        name: "a \(kind) on a \(state.runState.rawValue) run is fenced", from: run(state), event: event,
                        refusal: .leaseLost))
            }
        }
        return cases
    }()

    @Test(arguments: refusals)
    func refused(_ refused: Refused) {
        var lifecycle = refused.from
        #expect(lifecycle.event(refused.event) == .refuse(refused.refusal))
        #expect(lifecycle == refused.from)
    }

    @Test(arguments: RunState.allCases)
    func anImportedRunArrivesStoppedOrAsItEnded(_ exported: RunState) {
        let (state, error) = Lifecycle.imported(exported)
        #expect(state == (exported.isFinal ? exported : .cancelled))
        #expect((error == nil) == exported.isFinal)
    }

    @Test func aCompletionRecordsItsHeadlineInRunCompleted() {
        let headline = RunHeadline(
            row: "majority@4",
            accuracy: IntervalEstimate(
                mean: 0.25, lower: 0.1, upper: 0.4, method: .problemBootstrap, seeds: 1, sd: nil, problems: 12),
            claims: ClaimTally(holds: 1, notShown: 0, reversed: 0))
        var lifecycle = Self.run(.running(Self.holder()))
        let action = lifecycle.event(
            .attemptEnded(token: Self.token, .completed(summary: "table", headline: headline), now: Self.now))
        guard case .persist(let change) = action else {
            Issue.record("the completion was not persisted: \(action)")
            return
        }
        #expect(change.event == .completed(RunCompleted(summary: "table", headline: headline)))
    }

    @Test func theHolderRenewsAndWritesWhileItsLeaseLasts() {
        var lifecycle = Self.run(.running(Self.holder(expiresIn: 1, cancelRequested: true)))
        #expect(lifecycle.event(.write(token: Self.token, now: Self.now)) == .allowWrite)
        #expect(
            lifecycle.event(.heartbeat(token: Self.token, now: Self.now))
                == .renew(until: Self.now + 30, cancelRequested: true))
        #expect(lifecycle.holder?.expiresAt == Self.now + 30)
        // Renewed: a write past the old expiry is still the holder's.
        #expect(lifecycle.event(.write(token: Self.token, now: Self.now + 5)) == .allowWrite)
    }

    @Test(arguments: [Lifecycle.State.queued, .requeued(notBefore: now), .completed, .failed, .cancelled])
    func theReaperLeavesRunsWithoutALeaseAlone(_ state: Lifecycle.State) {
        var lifecycle = Self.run(state)
        #expect(lifecycle.event(.reap(now: Self.now)) == .none)
        #expect(lifecycle.state == state)
    }

    @Test func theReaperLeavesALiveLeaseAlone() {
        var lifecycle = Self.run(.running(Self.holder(expiresIn: 0.001)))
        #expect(lifecycle.event(.reap(now: Self.now)) == .none)
        #expect(lifecycle.state == .running(Self.holder(expiresIn: 0.001)))
    }

    /// Kills of the daemon while the run gets further never fail it, however many; a run that dies at the same place
    /// every time fails after `maxAttempts` in a row, and the reason says it is a crash loop.
    @Test func onlyAttemptsWithoutProgressCountTowardsACrashLoop() {
        var lifecycle = Lifecycle.submitted(maxAttempts: 3, policy: Self.policy)
        var now = Self.now
        for token in Int64(1)...10 {
            _ = lifecycle.event(.claim(owner: "a", token: token, now: now))
            now += 31
            _ = lifecycle.event(.reap(now: now, progressed: true))
            #expect(lifecycle.state == .requeued(notBefore: now) && lifecycle.failures == 0)
        }
        var last: Lifecycle.Action = .none
        for token in Int64(11)...13 {
            now += 400
            _ = lifecycle.event(.claim(owner: "a", token: token, now: now))
            now += 31
            last = lifecycle.event(.reap(now: now, progressed: false))
        }
        #expect(lifecycle.state == .failed && lifecycle.attempt == 13)
        guard case .persist(let change) = last, case .failed(let failed) = change.event else {
            Issue.record("the third attempt in a row without progress did not fail the run")
            return
        }
        #expect(failed.reason.contains("crash loop"))
    }

    @Test(arguments: [(0, 5.0), (1, 10), (2, 20), (5, 160), (6, 300), (60, 300)])
    func theBackoffDoublesUpToItsCap(failures: Int, seconds: Double) {
        #expect(Self.policy.backoff(afterFailures: failures) == seconds)
    }

    /// A whole life: claimed, lost to the reaper, claimed again (a new attempt), completed; the old holder's
    /// token is fenced throughout.
    @Test func aRunOutlivesAWorkerThatDied() {
        var lifecycle = Lifecycle.submitted(maxAttempts: 3, policy: Self.policy)
        _ = lifecycle.event(.claim(owner: "a", token: 1, now: Self.now))
        _ = lifecycle.event(.reap(now: Self.now + 31))
        #expect(lifecycle.state == .requeued(notBefore: Self.now + 36))
        #expect(lifecycle.event(.claim(owner: "b", token: 2, now: Self.now + 35)) != .none)
        #expect(lifecycle.state == .requeued(notBefore: Self.now + 36))
        guard case .persist = lifecycle.event(.claim(owner: "b", token: 2, now: Self.now + 36)) else {
            Issue.record("the run was not claimable after its backoff")
            return
        }
        #expect(lifecycle.attempt == 2)
        #expect(lifecycle.event(.write(token: 1, now: Self.now + 37)) == .refuse(.leaseLost))
        #expect(lifecycle.event(.attemptEnded(token: 2, .completed(summary: ""), now: Self.now + 40)) != .none)
        #expect(lifecycle.state == .completed && lifecycle.failures == 1)
    }
}
