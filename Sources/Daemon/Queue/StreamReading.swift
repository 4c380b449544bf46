import EventStore
import Foundation

extension EventStore {
    /// Every event of a stream, in order. Public for `e2h-bench page`, whose reference it is.
    public func readWhole(stream: String) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        var from: Int64 = 1
        while true {
            let page = try await read(stream: stream, fromVersion: from, limit: 1000)
            events += page
            guard let last = page.last, page.count == 1000 else { return events }
            from = last.version + 1
        }
    }
}
