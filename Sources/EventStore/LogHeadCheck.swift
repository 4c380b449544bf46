import Foundation

extension PostgresConnection {
    /// The start-up check of the invariant a partial restore or a hand edit breaks silently: the log head (the
    /// last position handed out) is the last stored event's position. A head behind the log would make every
    /// append collide with a stored position; one ahead would leave a gap that every reader stops at. Both
    /// reads are one statement, so one snapshot: an append commits head and events together.
    func checkLogHead() throws {
        let rows = try execute(
            "SELECT (SELECT position FROM log_head) AS head, (SELECT coalesce(max(position), 0) FROM events) AS last")
        let head = try rows.int64(0, "head")
        let last = try rows.int64(0, "last") ?? 0
        guard head == last else {
            throw EventStoreError(
                code: .gap,
                message: "the event log's head is at \(head.map(String.init) ?? "no position") but its last event "
                    + "at \(last): the database was restored incompletely or edited by hand — restore a complete "
                    + "dump (pg_dump of the whole database)")
        }
    }
}
