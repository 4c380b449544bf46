import ArgumentParser
import EventStore
import Foundation

/// `e2h-bench events`: append throughput (fsync on) with ordering, idempotency and the hash
/// chain on, for single-event transactions and batches of 10 and 100, from 1 and 4 writers; and
/// readAll throughput. Each figure's reference is the same work as a plain INSERT (or keyset
/// SELECT) on an unordered table, measured in the same run on the same server.
struct EventsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Event store append and read throughput against plain INSERT/SELECT.")

    @Option(help: "libpq URL of a server where a scratch database may be created (default: $E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Seconds each measurement runs.")
    var seconds: Double = 1

    @Option(help: "Rounds per figure: the event store and its reference alternate, and each reports its median.")
    var rounds: Int = 3

    func validate() throws {
        guard rounds >= 1, seconds > 0 else {
            throw ValidationError("--rounds must be at least 1 and --seconds positive")
        }
    }

    func run() async throws {
        try await ScratchDatabase.with(server: try ScratchDatabase.server(databaseURL), label: "e2h.bench.events") {
            try await measure($0)
        }
    }

    private func measure(_ store: EventStore) async throws {
        try await store.execute("CREATE TABLE bench_reference (id bigserial PRIMARY KEY, payload json NOT NULL)")
        let settings = try await store.execute(
            "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync, version() AS v")
        print(
            "events benchmark: \(try settings.string(0, "v")?.prefix { $0 != "," } ?? "?"), "
                + "fsync=\(try settings.string(0, "fsync") ?? "?"), synchronous_commit=\(try settings.string(0, "sync") ?? "?"), "
                + "median of \(rounds) rounds of \(String(format: "%.1f", seconds)) s per figure")
        for writers in [1, 4] {
            for batch in [1, 10, 100] {
                // The machine is shared: alternating the two in short rounds and taking medians
                // keeps a burst of someone else's load from landing on one side only.
                var appended: [Double] = []
                var plain: [Double] = []
                for round in 0..<rounds {
                    appended.append(
                        try await throughput(writers: writers) { writer, count in
                            let events = (0..<batch).map { _ in NewEvent(type: "BenchmarkEvent", payload: Self.payload)
                            }
                            _ = try await store.append(
                                stream: "bench-\(batch)-\(writers)-\(writer)-\(round)",
                                expectedVersion: .exact(Int64(count * batch)), events: events)
                            return batch
                        })
                    plain.append(
                        try await throughput(writers: writers) { _, _ in
                            try await store.execute(
                                "INSERT INTO bench_reference (payload) SELECT * FROM unnest($1::json[])",
                                [.jsonArray(Array(repeating: Self.payload, count: batch))])
                            return batch
                        })
                }
                let target =
                    switch (writers, batch) {
                    case (1, 1): "≥ 2500 events/s"
                    case (_, 100): "≥ 20000 events/s"
                    default: "none, for context"
                    }
                Figure(
                    name: "events-append-batch\(batch)-writers\(writers)", value: median(appended), unit: "events/s",
                    target: target, reference: median(plain), referenceLabel: "events/s plain INSERT"
                ).print()
            }
        }
        let read = try await readThroughput { after in
            let events = try await store.readAll(after: after, limit: 1000)
            return (events.count, events.last?.position ?? after)
        }
        let plainRead = try await readThroughput { after in
            let rows = try await store.execute(
                "SELECT id, payload FROM bench_reference WHERE id > $1 ORDER BY id LIMIT 1000", [.int(after)])
            return (rows.count, rows.isEmpty ? after : try rows.int64(rows.count - 1, "id") ?? after)
        }
        Figure(
            name: "events-readall", value: read, unit: "events/s", target: "none, for context", reference: plainRead,
            referenceLabel: "rows/s plain keyset SELECT"
        ).print()
    }

    /// A ~200-byte JSON payload, like a small pipeline event.
    static let payload = Data(
        (#"{"stage": "sft", "step": 1200, "loss": 0.4182, "learningRate": 0.0003, "tokens": 65536, "#
            + #""checkpoint": "9f2c6a1e0b7d4e3f8a5c2b1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"}"#).utf8)

    private func median(_ xs: [Double]) -> Double {
        let sorted = xs.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    /// Events per second of `writers` tasks each repeating `step` (given its count of steps so far) for `seconds`.
    private func throughput(
        writers: Int, _ step: @escaping @Sendable (_ writer: Int, _ count: Int) async throws -> Int
    ) async throws -> Double {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var events = 0
                    var steps = 0
                    while ContinuousClock.now < deadline {
                        events += try await step(writer, steps)
                        steps += 1
                    }
                    return events
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (ContinuousClock.now - start).seconds
    }

    /// Rows per second of paging through a whole table, 1,000 at a time.
    private func readThroughput(_ page: (Int64) async throws -> (count: Int, last: Int64)) async throws -> Double {
        let start = ContinuousClock.now
        var after: Int64 = 0
        var total = 0
        while true {
            let (count, last) = try await page(after)
            if count == 0 { break }
            total += count
            after = last
        }
        return Double(total) / (ContinuousClock.now - start).seconds
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
