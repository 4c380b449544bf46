import ArgumentParser

// Placeholder until its issue lands; it fails loudly rather than printing a figure.
struct EventsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("the 'events' benchmark is not built yet") }
}
