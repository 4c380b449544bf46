import ArgumentParser

// Placeholder until its issue lands; it fails loudly rather than printing a figure.
struct SamplingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("the 'sample' benchmark is not built yet") }
}
