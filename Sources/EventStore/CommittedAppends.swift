import Synchronization

/// How many events a store's sessions have appended and committed: counted where the commit is known, so that every
/// writer (a run's recorder, a submission, an annotation, an import, a tombstone) is counted without counting
/// itself. An append that found its events already stored (an idempotent retry) writes nothing and adds nothing; a
/// COMMIT whose reply was lost adds nothing either, since whether it committed is unknown.
final class CommittedAppends: Sendable {
    private let total = Atomic<Int>(0)

    var count: Int { total.load(ordering: .relaxed) }

    func add(_ events: Int) {
        guard events > 0 else { return }
        total.add(events, ordering: .relaxed)
    }
}
