import Foundation

/// What produced an attempt's events: the binary, its toolchain, the machine, the engine's threads and the database.
/// Recorded in the attempt's `RunClaimed`, a daemon event, so replays never compare it: the same spec and seed must
/// give the same pipeline events whatever it says. It is what to look at when they do not.
public struct Provenance: Codable, Sendable, Equatable {
    /// e2h's version (the VERSION file).
    public var version: String
    /// The git commit the binary was built from ("-dirty": with uncommitted changes; "unknown": not known).
    public var commit: String
    /// The Swift compiler that built it ("Swift 6.3").
    public var swift: String
    /// The distribution ("Ubuntu 24.04.1 LTS"), from /etc/os-release.
    public var os: String
    /// `uname`: system, release and machine ("Linux 6.8.0-45-generic x86_64").
    public var kernel: String
    public var cpu: String
    /// The instruction-set extensions the engine's kernels use that this CPU has, in a fixed order.
    public var cpuFeatures: [String]
    /// The engine's compute threads for the attempt.
    public var threads: Int
    /// PostgreSQL's `server_version`.
    public var postgres: String

    public init(
        version: String, commit: String, swift: String, os: String, kernel: String, cpu: String,
        cpuFeatures: [String], threads: Int, postgres: String
    ) {
        self.version = version
        self.commit = commit
        self.swift = swift
        self.os = os
        self.kernel = kernel
        self.cpu = cpu
        self.cpuFeatures = cpuFeatures
        self.threads = threads
        self.postgres = postgres
    }

    /// (label, value) in display order: the one rendering `e2h show`, `e2h replay` and the dashboard share.
    public var fields: [(label: String, value: String)] {
        [
            ("e2h", "\(version) (\(commit))"),
            ("swift", swift),
            ("os", os),
            ("kernel", kernel),
            ("cpu", cpu),
            ("features", cpuFeatures.isEmpty ? "none" : cpuFeatures.joined(separator: " ")),
            ("threads", "\(threads)"),
            ("postgresql", postgres),
        ]
    }
}

/// One attempt of a run and what produced it; `provenance` is nil for attempts recorded before e2h recorded it.
public struct AttemptProvenance: Codable, Sendable, Equatable {
    public var attempt: Int
    public var worker: String
    public var provenance: Provenance?

    public init(attempt: Int, worker: String, provenance: Provenance?) {
        self.attempt = attempt
        self.worker = worker
        self.provenance = provenance
    }
}

/// `GET /v1/runs/{id}/provenance`: every attempt of the run, oldest first.
public struct ProvenanceList: Codable, Sendable, Equatable {
    public var run: String
    public var attempts: [AttemptProvenance]

    public init(run: String, attempts: [AttemptProvenance]) {
        self.run = run
        self.attempts = attempts
    }
}
