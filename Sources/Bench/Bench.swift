import ArgumentParser

/// `e2h-bench`: release-built benchmarks, one subcommand per area. Each figure is printed on its
/// own line against a reference measured in the same run, because these machines are too noisy
/// for absolute thresholds.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2h-bench",
        abstract: "e2h benchmarks: each figure against a reference measured in the same run.",
        subcommands: [
            EventsBenchmark.self, GEMMBenchmark.self, TrainingBenchmark.self, SamplingBenchmark.self,
            CompareBenchmark.self, OverheadBenchmark.self, ResumeBenchmark.self, BundleBenchmark.self,
            PageBenchmark.self, ScoringBenchmark.self,
        ]
    )
}
