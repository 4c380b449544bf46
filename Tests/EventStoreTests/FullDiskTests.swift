import Foundation
import Testing

@testable import EventStore

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL's disk fills up under the store: the failure is a typed `.diskFull` that says what to do, and once the
/// disk has room again nothing committed is lost or half-written.
@Suite("Full disk")
struct FullDiskTests {
    /// 32 MiB (initdb takes ~28) mostly fills on a data file's extension, 40 MiB mostly on a WAL write (a PANIC):
    /// both sizes, so that both ways usually run; the test holds either way.
    @Test(.timeLimit(.minutes(6)), arguments: [32, 40])
    func aFullDiskFailsClearlyAndLosesNothing(diskMiB: Int) async throws {
        var cluster = try PrivateCluster.create()
        let disk = cluster.directory + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        // Owned by the server's user (as root, `postgres`), like the cluster's directory.
        let owner = try FileManager.default.attributesOfItem(atPath: cluster.directory)
        let uid = (owner[.ownerAccountID] as? NSNumber)?.intValue ?? Int(getuid())
        let gid = (owner[.groupOwnerAccountID] as? NSNumber)?.intValue ?? Int(getgid())
        guard mount("tmpfs", disk, "tmpfs", 0, "size=\(diskMiB)m,mode=0700,uid=\(uid),gid=\(gid)") == 0 else {
            let reason = String(cString: strerror(errno))
            await cluster.destroy()
            throw EventStoreError(
                code: .invalidArgument, message: "cannot mount a tmpfs (the test needs root): \(reason)")
        }
        cluster.mountPoint = disk
        cluster.dataPath = "disk/data"
        // Small WAL segments and buffers so that a few MiB of writes fill the disk.
        cluster.settings = [
            "shared_buffers=1MB", "wal_buffers=64kB", "min_wal_size=2MB", "max_wal_size=4MB", "max_connections=10",
        ]
        do {
            try await cluster.initialize("--wal-segsize=1")
            try await cluster.start()
            try await exercise(cluster, diskMiB: diskMiB)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    private func exercise(_ cluster: PrivateCluster, diskMiB: Int) async throws {
        var configuration = EventStoreConfiguration()
        configuration.reconnectTimeout = .seconds(5)
        configuration.statementTimeout = .seconds(10)
        let store = try await EventStore(
            url: cluster.url, connections: 2, configuration: configuration, logger: TestDatabase.logger)
        try await store.migrate()

        var appended: [String: [UUID]] = [:]  // stream → the ids of its committed events, in order
        var blobs: [String: Data] = [:]  // hash → bytes of every put that returned
        var failure: EventStoreError?
        for round in 0..<10_000 {
            do {
                if round % 3 == 2 {
                    // Random bytes: TOAST cannot compress them away.
                    let bytes = try randomBytes(256 * 1024)
                    blobs[try await store.putBlob(bytes)] = bytes
                } else {
                    let stream = "s\(round % 4)"
                    let padding = try randomBytes(12 * 1024)
                    let events = (0..<4).map { n in
                        event("Filled", #"{"n": \#(n), "padding": "\#(padding.base64EncodedString())"}"#)
                    }
                    _ = try await store.append(stream: stream, expectedVersion: .any, events: events)
                    appended[stream, default: []] += events.map(\.id)
                }
            } catch let error as EventStoreError {
                failure = error
                break
            }
        }
        let error = try #require(failure, "the disk never filled up")
        // Which write hits the wall first depends on the checkpointer: a data file's extension fails with an ERROR
        // (53100, the session lives on), a WAL write with a PANIC that takes the server down without a word to the
        // client, so the store can only point at the server's log.
        #expect([.diskFull, .connection].contains(error.code), "\(error)")
        #expect(
            error.message.contains(error.code == .diskFull ? "disk is full (ENOSPC)" : "full disk (ENOSPC)"), "\(error)"
        )
        #expect(error.message.contains("free space"), "says what to do: \(error)")
        #expect(!appended.isEmpty && !blobs.isEmpty, "the disk filled before both kinds of write had succeeded")

        // Room again; PostgreSQL PANICs on a failed WAL write and may have stopped for good.
        guard mount("tmpfs", cluster.mountPoint!, "tmpfs", UInt(MS_REMOUNT), "size=\(diskMiB * 4)m") == 0 else {
            throw EventStoreError(
                code: .invalidArgument, message: "remount failed: \(String(cString: strerror(errno)))")
        }
        let wasRunning = await cluster.isRunning()
        if !wasRunning { try await cluster.start() }

        // Nothing committed lost or half-written: the log is contiguous, every chain intact, every event there.
        let head = try await store.headPosition()
        let all = try await store.readAll(after: 0, limit: 100_000)
        #expect(all.map(\.position) == Array(stride(from: 1, through: head, by: 1)))
        #expect(all.count == appended.values.map(\.count).reduce(0, +))
        for (stream, ids) in appended {
            #expect(try await store.verify(stream: stream) == .intact(events: Int64(ids.count)), "\(stream)")
            #expect(try await store.read(stream: stream, limit: 100_000).map(\.id) == ids, "\(stream)")
        }
        for (hash, bytes) in blobs { #expect(try await store.blob(hash) == bytes) }

        // And it works again.
        let after = try await store.append(stream: "s0", expectedVersion: .any, events: [event()])
        #expect(after.lastPosition == head + 1)
        #expect(try await store.verify(stream: "s0") == .intact(events: Int64((appended["s0"]?.count ?? 0) + 1)))
        await store.shutdown()
    }

    /// Random bytes in one read: drawn a byte at a time, a debug build spent most of the test's time limit on them.
    private func randomBytes(_ count: Int) throws -> Data {
        guard let source = FileHandle(forReadingAtPath: "/dev/urandom") else {
            throw EventStoreError(code: .invalidArgument, message: "cannot open /dev/urandom")
        }
        defer { try? source.close() }
        return source.readData(ofLength: count)
    }
}
