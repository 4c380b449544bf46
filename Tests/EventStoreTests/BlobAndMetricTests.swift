import Canonical
import Crypto
import Foundation
import Testing

@testable import EventStore

@Suite("Blobs and metrics")
struct BlobAndMetricTests {
    @Test func aLargeBlobRoundTripsOnceAndCorruptionIsDetected() async throws {
        try await withStore { store, _ in
            var generator = SystemRandomNumberGenerator()
            let bytes = Data((0..<(32 << 20) / 8).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } })
            #expect(bytes.count == 32 << 20)
            let keys = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<3 { group.addTask { try await store.putBlob(bytes) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let key = Hex.encode(Data(SHA256.hash(data: bytes)))
            #expect(keys == [key, key, key])
            #expect(try await store.blob(key) == bytes)
            let rows = try await store.transaction { tx in try tx.query("SELECT count(*) AS n FROM blobs").int(0, "n") }
            #expect(rows == 1)
            // In pieces, as an export streams it: the same bytes, no piece larger than asked.
            var pieces: [Data] = []
            try await store.blob(key, inPiecesOf: 5 << 20) { pieces.append($0) }
            #expect(pieces.map(\.count) == Array(repeating: 5 << 20, count: 6) + [2 << 20])
            #expect(pieces.reduce(Data(), +) == bytes)
            #expect(try await store.blobSummaries([key]) == [key: BlobSummary(size: 32 << 20, head: bytes.prefix(16))])

            try await store.transaction { tx in
                try tx.query("UPDATE blobs SET content = overlay(content PLACING '\\xff'::bytea FROM 1000000)")
            }
            #expect(await errorCode { _ = try await store.blob(key) } == .blobCorrupted)
            #expect(await errorCode { try await store.blob(key, inPiecesOf: 5 << 20) { _ in } } == .blobCorrupted)
            #expect(
                await errorCode { try await store.blob(String(repeating: "ab", count: 32), inPiecesOf: 1) { _ in } }
                    == .blobNotFound)
            #expect(await errorCode { _ = try await store.blob(String(repeating: "ab", count: 32)) } == .blobNotFound)
            #expect(await errorCode { _ = try await store.blob("not-a-hash") } == .invalidArgument)
        }
    }

    @Test func manyBlobsComeInOneReadCheckedAndKeyedByHash() async throws {
        try await withStore { store, _ in
            let contents = (0..<300).map { Data("outcomes \($0)".utf8) }
            var keys: [String] = []
            for content in contents { keys.append(try await store.putBlob(content)) }
            let read = try await store.blobs(keys + keys.prefix(10))
            #expect(read.count == 300)
            #expect(keys.map { read[$0] } == contents)
            #expect(try await store.blobs([]).isEmpty)

            let absent = [String(repeating: "ab", count: 32), String(repeating: "cd", count: 32)]
            do {
                _ = try await store.blobs(keys + absent)
                Issue.record("missing blobs were not reported")
            } catch let error as EventStoreError {
                #expect(error.code == .blobNotFound)
                #expect(error.message.contains("nor 1 more of the 302"))
            }
            #expect(await errorCode { _ = try await store.blobs(["not-a-hash"]) } == .invalidArgument)
            let corrupted = try #require(Hex.decode(keys[7]))
            try await store.transaction { tx in
                try tx.query("UPDATE blobs SET content = 'x'::bytea WHERE sha256 = $1", [.bytes(corrupted)])
            }
            #expect(await errorCode { _ = try await store.blobs(keys) } == .blobCorrupted)
        }
    }

    @Test func emptyBlob() async throws {
        try await withStore { store, _ in
            let key = try await store.putBlob(Data())
            #expect(key == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(try await store.blob(key) == Data())
            var pieces: [Data] = []
            try await store.blob(key, inPiecesOf: 8) { pieces.append($0) }
            #expect(pieces == [Data()])
        }
    }

    /// Sizes and summaries describe blobs without their content: an empty blob has no first byte, and a hash with
    /// nothing stored is absent.
    @Test func sizesAndSummariesDescribeStoredBlobs() async throws {
        try await withStore { store, _ in
            let json = try await store.putBlob(Data(#"{"a": 1}"#.utf8))
            let empty = try await store.putBlob(Data())
            let absent = String(repeating: "0", count: 64)
            #expect(try await store.blobSizes([json, empty, absent]) == [json: 8, empty: 0])
            #expect(
                try await store.blobSummaries([json, empty, absent]) == [
                    json: BlobSummary(size: 8, head: Data(#"{"a": 1}"#.utf8)),
                    empty: BlobSummary(size: 0, head: Data()),
                ])
            #expect(try await store.transaction { try $0.blobSizes([json, absent]) } == [json: 8])
        }
    }

    @Test func metricsAreIdempotentOnTheirKey() async throws {
        try await withStore { store, _ in
            let points = (0..<100).map {
                MetricPoint(run: "r", attempt: 1, name: "loss", step: Int64($0), value: 1 / Double($0 + 1))
            }
            try await store.recordMetrics(points)
            // A retry (same points) and a resume that re-records steps 50... with other values.
            try await store.recordMetrics(points)
            try await store.recordMetrics(
                points[50...].map { MetricPoint(run: "r", attempt: 1, name: "loss", step: $0.step, value: -1) })
            try await store.recordMetrics([MetricPoint(run: "r", attempt: 2, name: "loss", step: 0, value: 7)])
            try await store.recordMetrics([MetricPoint(run: "other", attempt: 1, name: "loss", step: 0, value: 7)])
            let stored = try await store.metrics(run: "r")
            #expect(stored == points + [MetricPoint(run: "r", attempt: 2, name: "loss", step: 0, value: 7)])
            // Metrics stay outside the ordered log.
            #expect(try await store.headPosition() == 0)
        }
    }
}
