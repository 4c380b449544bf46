import ArgumentParser

// Placeholder until its issue lands; it fails loudly rather than printing a figure.
struct GEMMBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gemm", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("the 'gemm' benchmark is not built yet") }
}
