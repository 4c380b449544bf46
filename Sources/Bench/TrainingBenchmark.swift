import ArgumentParser

// Placeholder until its issue lands; it fails loudly rather than printing a figure.
struct TrainingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("the 'train' benchmark is not built yet") }
}
