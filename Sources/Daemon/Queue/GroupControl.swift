import Foundation
import WireTypes

/// Cancel and resume of a whole group: each member gets the run's request, as `e2h cancel RUN` would give it; members
/// to which it does not apply (already ended, or not resumable) are left as they are.
struct GroupControl {
    let queue: Queue

    func cancel(_ id: String) async throws -> GroupDetails {
        try await apply(to: id, where: { !$0.isFinal }) { try await RunControl(queue: queue).cancel($0) }
    }

    func resume(_ id: String) async throws -> GroupDetails {
        try await apply(to: id, where: { $0 == .failed || $0 == .cancelled }) {
            try await RunControl(queue: queue).resume($0)
        }
    }

    private func apply(
        to id: String, where applies: (RunState) -> Bool, _ request: (String) async throws -> RunDetails
    ) async throws -> GroupDetails {
        let catalog = GroupCatalog(queue: queue)
        for member in try await catalog.details(id).members where applies(member.run.state) {
            do {
                _ = try await request(member.run.id)
            } catch let error as DaemonError where error.code == .conflict {
                // The member changed state since it was read (it ended, or another client acted first).
                queue.logger.debug("group member skipped", metadata: ["run": "\(member.run.id)", "why": "\(error)"])
            }
        }
        return try await catalog.details(id)
    }
}
