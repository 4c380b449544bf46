import Foundation

extension EventStore {
    /// Records training-curve points; a point whose (run, attempt, name, step) is already stored
    /// is left as it is, so re-recording after a retry or a resume is harmless.
    public func recordMetrics(_ points: [MetricPoint]) async throws {
        guard !points.isEmpty else { return }
        try await idempotent { connection in try MetricPoint.insert(points, on: connection) }
    }

    /// All points of a run, ordered by attempt, name and step.
    public func metrics(run: String) async throws -> [MetricPoint] {
        let rows = try await idempotent { connection in
            try connection.execute(
                "SELECT run, attempt, name, step, value FROM metrics WHERE run = $1 ORDER BY attempt, name, step",
                [.text(run)])
        }
        return try MetricPoint.points(rows)
    }

    /// Up to `limit` points of a run that come after `after` in (attempt, name, step) order: keyset paging, so a
    /// reader of a long run's curves (an export) holds one page at a time.
    public func metrics(run: String, after: MetricPoint?, limit: Int) async throws -> [MetricPoint] {
        let rows = try await idempotent { connection in
            try connection.execute(
                """
                SELECT run, attempt, name, step, value FROM metrics
                WHERE run = $1 AND (attempt, name, step) > ($2, $3, $4)
                ORDER BY attempt, name, step LIMIT $5
                """,
                [
                    .text(run), .int(Int64(after?.attempt ?? -1)), .text(after?.name ?? ""), .int(after?.step ?? -1),
                    .int(Int64(limit)),
                ])
        }
        return try MetricPoint.points(rows)
    }
}

extension Transaction {
    /// Records training-curve points inside this transaction, so a caller's precondition (a lease
    /// fence) and the points commit or fail together; see `EventStore.recordMetrics`.
    public func recordMetrics(_ points: [MetricPoint]) throws {
        guard !points.isEmpty else { return }
        try MetricPoint.insert(points, on: connection)
    }
}

extension MetricPoint {
    fileprivate static func points(_ rows: PostgresRows) throws -> [MetricPoint] {
        try (0..<rows.count).map { row in
            MetricPoint(
                run: try rows.string(row, "run") ?? "", attempt: try rows.int(row, "attempt") ?? 0,
                name: try rows.string(row, "name") ?? "", step: try rows.int64(row, "step") ?? 0,
                value: try rows.double(row, "value") ?? .nan)
        }
    }

    fileprivate static func insert(_ points: [MetricPoint], on connection: PostgresConnection) throws {
        try connection.executePrepared(
            """
            INSERT INTO metrics (run, attempt, name, step, value)
            SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[], $5::float8[])
            ON CONFLICT (run, attempt, name, step) DO NOTHING
            """,
            [
                .textArray(points.map(\.run)), .int64Array(points.map { Int64($0.attempt) }),
                .textArray(points.map(\.name)), .int64Array(points.map(\.step)), .doubleArray(points.map(\.value)),
            ])
    }
}
