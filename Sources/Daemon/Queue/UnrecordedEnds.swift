import Synchronization

/// The attempt ends this daemon's workers could not record, by run, until this daemon's reaper takes the run from
/// the expired lease and names the end in its reason (`RunLifecycle.UnrecordedEnd`). In memory: another daemon's
/// reaper, or this one after a restart, says "worker died or stalled" as before.
final class UnrecordedEnds: Sendable {
    private let ends = Mutex<[String: RunLifecycle.UnrecordedEnd]>([:])

    func note(_ end: RunLifecycle.UnrecordedEnd, of run: String) { ends.withLock { $0[run] = end } }

    func end(of run: String) -> RunLifecycle.UnrecordedEnd? { ends.withLock { $0[run] } }

    func forget(_ runs: some Sequence<String>) {
        ends.withLock { ends in for run in runs { ends[run] = nil } }
    }
}
