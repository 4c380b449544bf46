import Pipeline
import WireTypes

/// `select GROUP --max ROW`: each member's validation figure from its record, and the member with the largest.
/// Test-split rows are refused (`ValidationFigure`): the choice must not see the test set.
struct GroupSelection {
    let queue: Queue

    func select(_ group: String, maximizing row: String) async throws -> SelectionResponse {
        let figure: ValidationFigure
        do {
            figure = try ValidationFigure(parsing: row)
        } catch let error as PipelineError {
            throw DaemonError(.badRequest, error.message)
        }
        let details = try await GroupCatalog(queue: queue).details(group)
        var candidates: [SelectionResponse.Candidate] = []
        for member in details.members {
            let events = try await queue.store.readWhole(stream: DaemonEvent.stream(member.run.id))
            let value = try await figure.value(
                in: events.map { ($0.type, $0.payload) }, spec: try RunReplay.recordedSpec(events)
            ) {
                try await queue.store.blob($0)
            }
            candidates.append(.init(run: member.run.id, settings: member.settings, value: value))
        }
        // The first of equal values in sweep order: the choice depends on nothing but the record.
        let best = candidates.reduce(SelectionResponse.Candidate?.none) { best, next in
            guard let value = next.value else { return best }
            guard let best, let bestValue = best.value else { return next }
            return value > bestValue ? next : best
        }
        guard let best else {
            throw DaemonError(
                .conflict,
                "no member of group \(group) has recorded \(figure.rawValue) yet; select once that training finished")
        }
        return SelectionResponse(group: group, row: figure.rawValue, best: best.run, candidates: candidates)
    }
}
