import ArgumentParser

/// `e2h completion bash|zsh|fish`: the shell completion script, generated from the commands themselves so it
/// cannot fall behind them. The README says where each shell looks for it.
struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the completion script for bash, zsh or fish.",
        discussion: "For example: e2h completion bash > ~/.local/share/bash-completion/completions/e2h")

    @Argument(help: "bash, zsh or fish.")
    var shell: String

    func validate() throws {
        guard CompletionShell(rawValue: shell) != nil else {
            throw ValidationError("unknown shell \(shell): one of bash, zsh, fish")
        }
    }

    func run() {
        print(E2H.completionScript(for: CompletionShell(rawValue: shell)!))
    }
}
