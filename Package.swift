// swift-tools-version:6.2
import PackageDescription

/// Every e2h target is compiled in Swift 6 language mode with warnings as errors.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags(["-warnings-as-errors"]),
]

/// Numeric code is optimized in every configuration: a debug build of the engine is ~50x slower,
/// which would force the tests to check less. Exclusivity checks are off for the same reason;
/// the kernels work on unsafe buffers where they add nothing.
let optimized: [SwiftSetting] =
    strict + [
        .unsafeFlags(["-O", "-enforce-exclusivity=unchecked"])
    ]

/// The engine is compiled for the machine that builds it, so its kernels get FMA and the widest
/// vectors the CPU has (AVX-512 on the reference machine). Results do not depend on this choice:
/// every kernel fixes its arithmetic (explicit fma, fixed reduction order), so any x86-64 CPU with
/// FMA gives the same bits; without it, fma falls back to the (exact, slow) software routine.
/// `E2H_TARGET_CPU=haswell` (AVX2 and FMA, any x86-64 CPU since 2013) builds binaries for other machines.
#if arch(x86_64)
let engineCPU: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", Context.environment["E2H_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 } ?? "native"])
]
#else
let engineCPU: [SwiftSetting] = []
#endif

let package = Package(
    name: "e2h",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "e2hd", targets: ["DaemonCommand"]),
        .executable(name: "e2h", targets: ["CLIClient"]),
        .executable(name: "e2h-bench", targets: ["Bench"]),
        .executable(name: "e2h-fuzz", targets: ["Fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.26.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        /// A header only: whether the engine's build targets AVX-512 (a compile-time fact the GEMM's tile shape
        /// follows; Swift has no `#if` for target features).
        .systemLibrary(name: "CTargetFeatures"),
        /// Canonical JSON, SHA-256 content hashes, the hashes a JSON document names, and hex: the one definition of
        /// each that every module uses, so two places that encode or address the same content always agree.
        .target(
            name: "Canonical",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        /// The binary's version, commit and toolchain, stamped before every build by the plugin below (no network): the
        /// provenance every attempt records.
        .target(
            name: "BuildStamp",
            swiftSettings: strict,
            plugins: ["BuildStampPlugin"]
        ),
        .plugin(
            name: "BuildStampPlugin",
            capability: .buildTool()
        ),
        .target(
            name: "EventStore",
            dependencies: [
                "Canonical",
                "CLibPQ",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NeuralEngine",
            dependencies: ["CTargetFeatures", "Randomness"],
            swiftSettings: optimized + engineCPU
        ),
        /// The one random generator (xoshiro256**), shared by the engine and the statistics.
        .target(
            name: "Randomness",
            swiftSettings: optimized
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "Analysis",
                "Canonical",
                "NeuralEngine",
                "Randomness",
                "WireTypes",
                "CYAML",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: optimized
        ),
        /// Statistics of recorded scores (bootstrap over problems, intervals across seeds), the comparison
        /// `compare` prints, and its tables. Pure: no I/O, so the daemon, the CLI and the dashboard share it.
        /// Built for the machine like the engine: its bootstrap kernel sums exact integers in Float, so the
        /// vector width changes its speed, never its results.
        .target(
            name: "Analysis",
            dependencies: ["Randomness", "WireTypes"],
            swiftSettings: optimized + engineCPU
        ),
        /// The JSON shapes e2hd serves and e2h reads: one definition, so the two can never drift.
        .target(
            name: "WireTypes",
            swiftSettings: strict
        ),
        /// Charts drawn as SVG, pure and deterministic: the one renderer behind the dashboard and `e2h plot`.
        .target(
            name: "Charts",
            swiftSettings: strict
        ),
        /// Server-rendered dashboard pages, pure: HTML escaped by construction, a CSP-friendly page skeleton and
        /// the compiled-in stylesheet.
        .target(
            name: "Dashboard",
            // Analysis for the comparison's table cells: one rendering of the headline for the CLI and the pages.
            dependencies: ["Analysis", "Charts", "WireTypes"],
            swiftSettings: strict
        ),
        /// The run bundle, as bytes on disk: its layout, the tar reader and writer's headers, the checks an import
        /// makes before it writes, the receipt key that signs and checks a bundle's receipt. Apart from the
        /// daemon (no HTTP, no queue), so that the libFuzzer target reads bundles with the import's own code.
        .target(
            name: "RunBundle",
            dependencies: [
                "Canonical",
                "EventStore",
                "WireTypes",
                // Ed25519 for receipts.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        /// The HTTP clients that e2h sends requests out with (`e2h` to e2hd, e2hd's webhooks): one configuration of
        /// AsyncHTTPClient, and the proxy the environment names (`ProxyEnvironment`, pure).
        .target(
            name: "OutboundHTTP",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: strict
        ),
        /// The daemon: host, queue, execution and API. A library under the thin `e2hd` command, so that
        /// `e2h-bench` measures the daemon's own fenced recorder rather than an imitation of it.
        .target(
            name: "Daemon",
            dependencies: [
                "Analysis",
                "BuildStamp",
                "Canonical",
                "Dashboard",
                "EventStore",
                // For its compute pool's thread, which also runs the blocking pg_ctl of a database restart, and the
                // cores its runs share.
                "NeuralEngine",
                "Pipeline",
                "RunBundle",
                "WireTypes",
                // Ed25519 for receipts (signed with a key that lives in the state directory); HMAC for the
                // dashboard's sign-in links, keyed by the API token.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // The webhooks' POSTs (see OutboundHTTP for why not URLSession).
                "OutboundHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The API's OpenAPI document, compiled into the binary (served at /openapi.yaml; no bundle to find at
            // run time).
            resources: [.embedInCode("API/openapi.yaml")],
            swiftSettings: strict
        ),
        /// `e2hd`: its flags, resolved into `DaemonSettings`, and nothing else.
        .executableTarget(
            name: "DaemonCommand",
            dependencies: [
                "BuildStamp",
                "Daemon",
                "WireTypes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CLIClient",
            dependencies: [
                // The comparison's tables and `--where` filters: one rendering for the CLI and the dashboard.
                "Analysis",
                "Canonical",
                // `e2h plot` draws the dashboard's figures with the same mapping and renderer.
                "Charts",
                "Dashboard",
                "WireTypes",
                // `e2h --version`: the version and commit the binary was built from.
                "BuildStamp",
                // `e2h doctor` reads the CPU's features as the engine's kernels name them.
                "NeuralEngine",
                // For `e2h validate`, which checks a spec offline with the daemon's own parser.
                "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Every request to e2hd, streams included (see OutboundHTTP for why not URLSession).
                "OutboundHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "Analysis",
                "Canonical",
                // `overhead` runs a pipeline through the daemon's fenced recorder; `resume` drives the e2hd binary.
                "Daemon",
                // `page` renders a run's page as e2hd serves it.
                "Dashboard",
                "EventStore",
                "NeuralEngine",
                // `ScoreRecorded`: the compare benchmark records and reads scores as the daemon does.
                "Pipeline",
                "Randomness",
                "WireTypes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: optimized
        ),
        /// The readers of outside bytes (spec, archive) as fuzz targets: `scripts/fuzz` builds this with libFuzzer
        /// and AddressSanitizer; a plain build replays a corpus or a crash through the same code.
        .executableTarget(
            name: "Fuzz",
            dependencies: [
                "Canonical", "EventStore", "Pipeline", "RunBundle", "WireTypes",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        /// Test support, in no product: what a forger can do to a bundle without a key (recompute its chain), for
        /// the import tests and the shutdown test; a webhook receiver that answers as told, for the hook tests.
        .target(
            name: "TestSupport",
            dependencies: ["Canonical", "EventStore", "RunBundle"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EventStoreTests",
            dependencies: [
                "Canonical",
                "EventStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NeuralEngineTests",
            dependencies: ["NeuralEngine", "Randomness"],
            swiftSettings: optimized
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Analysis", "Canonical", "Pipeline", "Randomness", "WireTypes"],
            exclude: ["Golden"],
            swiftSettings: optimized
        ),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Randomness", "WireTypes"],
            swiftSettings: optimized + engineCPU
        ),
        .testTarget(
            name: "DaemonTests",
            // Pipeline for its YAML reader: the OpenAPI test reads the embedded document with it.
            dependencies: [
                "BuildStamp", "Canonical", "Daemon", "DaemonCommand", "EventStore", "NeuralEngine",
                "OutboundHTTP", "Pipeline", "RunBundle", "TestSupport", "WireTypes",
            ],
            swiftSettings: strict
        ),
        /// The CLI's pure parts: the progress line, its rate estimate, the event-stream reader, the message for a file
        /// it cannot read.
        .testTarget(
            name: "CLIClientTests",
            dependencies: [
                "CLIClient", "OutboundHTTP", "WireTypes",
                // The transport's errors, which the client turns into its own.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        /// Which proxy a URL goes through, from the environment as curl reads it; the clients' configuration.
        .testTarget(
            name: "OutboundHTTPTests",
            dependencies: ["OutboundHTTP", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChartsTests",
            dependencies: ["Charts", "Randomness"],
            exclude: ["Golden"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["Dashboard", "Charts", "WireTypes"],
            swiftSettings: strict
        ),
        /// Drives the built e2hd and e2h binaries ($E2H_BIN_DIR) against a real PostgreSQL.
        .testTarget(
            name: "EndToEndTests",
            // Crypto: the webhook test checks the deliveries' HMAC signatures. Hummingbird: a proxy that plays an
            // older e2hd (`follow`'s fallback to polling). RunBundle and TestSupport: the shutdown test names its
            // ballast blob in a bundle's record and recomputes the chain, as ImportTests forges; the hook receiver.
            // Dashboard: the form paths and fields the browser test posts to.
            dependencies: [
                "Dashboard", "RunBundle", "TestSupport", "WireTypes", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
)
