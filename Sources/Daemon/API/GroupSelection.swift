import Pipeline
import WireTypes

/// `select GROUP --max ROW`: each member's validation figure from its record, and the setting whose members'
/// figures have the largest mean (`SettingChoice`). Test-split rows are refused (`ValidationFigure`): the choice must
/// not see the test set.
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
        // A row no member's spec records is the request's mistake, not something to wait for; a sweep may vary
        // whether a member records it (`rl.ppo.checkpoint`), so one member that does is enough.
        var problems: [String] = []
        for member in details.members {
            let events = try await queue.store.readWhole(stream: DaemonEvent.stream(member.run.id))
            let spec = try RunReplay.recordedSpec(events)
            if let problem = figure.problem(in: spec) { problems.append(problem) }
            // A member that failed or was cancelled does not count, whatever it recorded before it stopped: the
            // ids printed go on to `compare`, which counts only completed members (a group of four failed members
            // had its failed runs chosen, with exit 0).
            let stopped = member.run.state == .failed || member.run.state == .cancelled
            let value =
                stopped
                ? nil
                : try await figure.value(in: events.map { ($0.type, $0.payload) }, spec: spec) {
                    try await queue.store.blob($0)
                }
            candidates.append(.init(run: member.run.id, settings: member.settings, value: value))
        }
        if let problem = problems.first, problems.count == details.members.count {
            throw DaemonError(.badRequest, problem)
        }
        let counts = details.summary.members
        if counts.failed + counts.cancelled == details.members.count {
            throw DaemonError(
                .conflict,
                "every member of group \(group) failed or was cancelled, and such a member does not count: "
                    + "`e2h resume \(group.prefix(8))`, and select once they complete")
        }
        let choice = SettingChoice(candidates)
        guard let chosen = choice.chosen else {
            throw DaemonError(
                .conflict,
                candidates.contains { $0.value != nil }
                    ? "the settings of group \(group) have recorded \(figure.rawValue) on no seed in common yet, so "
                        + "no two can be compared on the same draws; select once more members finished"
                    : "no member of group \(group) has recorded \(figure.rawValue) yet; select once that training finished"
            )
        }
        return SelectionResponse(
            group: group, row: figure.rawValue, chosen: chosen, settings: choice.settings, candidates: candidates)
    }
}
