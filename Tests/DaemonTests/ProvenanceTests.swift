import BuildStamp
import Canonical
import EventStore
import Foundation
import NeuralEngine
import Testing
import WireTypes

@testable import Daemon

@Suite("Provenance of attempts")
struct ProvenanceTests {
    static let spec = "name: tiny\nseed: 7\n"

    @Test func eachClaimRecordsWhatExecutesTheAttemptOutsideWhatReplaysCompare() async throws {
        var settings = TestDatabase.settings()
        settings.threads = 3
        let queue = try await TestDatabase.queue(settings)
        let run = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "tiny.yaml")).run.id
        let first = try #require(try await queue.claim(owner: "first"))
        try await queue.appendFenced(
            first,
            [
                NewEvent(
                    type: "StageStarted", payload: Data(#"{"stage":"split"}"#.utf8),
                    metadata: Data(#"{"attempt":1,"volatile":{},"worker":"first"}"#.utf8))
            ], progress: nil)
        try await TestDatabase.expireLease(of: run, in: queue)
        #expect(try await queue.reap() == 1)
        let second = try #require(try await queue.claim(owner: "second"))

        let events = try await queue.store.readWhole(stream: DaemonEvent.stream(run))
        let attempts = try RecordedProvenance.attempts(events)
        #expect(attempts.map(\.attempt) == [1, 2] && attempts.map(\.worker) == ["first", "second"])
        let provenance = try #require(attempts[0].provenance)
        let server = try await queue.store.execute("SHOW server_version").string(0, "server_version")
        #expect(provenance.postgres == server)
        #expect(provenance.threads == 3)
        #expect(provenance.commit == BuildStamp.commit && provenance.version == BuildStamp.version)
        #expect(provenance.cpuFeatures == CPUDescription.current.kernelFeatures)
        #expect(provenance.kernel.hasPrefix("Linux ") && provenance.cpu == CPUDescription.current.model)
        #expect(first.provenance == provenance && second.provenance == attempts[1].provenance)

        // The claims are the daemon's: a replay compares the pipeline's event and nothing of the provenance.
        #expect(events.filter(RunReplay.isComparable).map(\.type) == ["StageStarted"])
        // A pipeline event's provenance is its attempt's, named in its metadata.
        let stage = try #require(events.first { $0.type == "StageStarted" })
        #expect(RecordedProvenance.of(stage, among: attempts) == provenance)
        let renamed = attempts.map { AttemptProvenance(attempt: $0.attempt, worker: $0.worker, provenance: nil) }
        #expect(RecordedProvenance.of(stage, among: renamed) == nil)
    }

    @Test func withoutADaemonOverrideTheThreadsAreTheSpecs() async throws {
        let queue = try await TestDatabase.queue()
        var settings = TestDatabase.settings()
        settings.threads = nil
        let open = Queue(store: queue.store, settings: settings, metrics: DaemonMetrics(), logger: queue.logger)
        _ = try await open.submit(SubmitRequest(yaml: Self.spec + "threads: 5\n", file: "tiny.yaml"))
        let lease = try #require(try await open.claim(owner: "w"))
        #expect(lease.provenance?.threads == 5)
    }

    /// The claim reads the spec for the provenance's threads; a record it cannot read must not roll the claim back,
    /// or the run would stay at the queue's head and be claimed and rolled back for ever.
    @Test func aRunWhoseSpecCannotBeReadIsStillClaimedAndTheClaimSaysWhy() async throws {
        let queue = try await TestDatabase.queue()
        let broken = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "tiny.yaml")).run.id
        try await queue.store.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        try await queue.store.execute(
            "UPDATE events SET payload = '{}' WHERE stream = $1 AND version = 1", [.text(DaemonEvent.stream(broken))])
        try await queue.store.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
        await #expect(throws: DaemonError.self) { try await queue.claim(owner: "w") }
        let details = try await queue.details(broken)
        #expect(details.state == .running && details.attempt == 1)
        let claim = try #require(
            try await queue.store.readWhole(stream: DaemonEvent.stream(broken)).last { $0.type == "RunClaimed" })
        #expect(try CanonicalJSON.decode(RunClaimed.self, from: claim.payload).provenance?.threads == 1)
    }

    @Test func theDistributionIsOsReleasesPrettyName() {
        let release = """
            NAME="Ubuntu"
            VERSION_ID="24.04"
            PRETTY_NAME="Ubuntu 24.04.1 LTS"
            """
        #expect(HostProvenance.distribution(osRelease: release) == "Ubuntu 24.04.1 LTS")
        #expect(HostProvenance.distribution(osRelease: "NAME=Alpine\n") == "Alpine")
        #expect(HostProvenance.distribution(osRelease: "") == "unknown")
    }
}
