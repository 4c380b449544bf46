import Foundation
import OutboundHTTP
import WireTypes

/// How results print: `--json`, `--csv`, or the table.
enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, csv
}

/// The client's defaults that a user sets once, each read from an `E2H_*` variable: the one table of which variable
/// stands for which option. `e2h --help` prints it, `e2h doctor` lists the ones set, and an option given on the
/// command line always wins over its variable. An empty variable counts as unset, so `E2H_OUTPUT= e2h runs` is the
/// way back to the table for one command.
struct ClientEnvironment: Sendable, Equatable {
    /// One variable and what it sets.
    struct Variable: Sendable, Equatable {
        let name: String
        /// The option it is the default of; empty for a setting with no option (color, timeout).
        let option: String
        let meaning: String
    }

    // Meanings short enough for one line of `--help` (ArgumentParser wraps a longer one without an indent).
    static let url = Variable(name: "E2H_URL", option: "--url", meaning: "e2hd's URL")
    static let token = Variable(name: "E2H_TOKEN", option: "--token", meaning: "the bearer token")
    static let stateDir = Variable(name: "E2H_STATE_DIR", option: "--state-dir", meaning: "e2hd's state directory")
    static let output = Variable(name: "E2H_OUTPUT", option: "--json, --csv", meaning: "table, json or csv")
    static let color = Variable(
        name: "E2H_COLOR", option: "", meaning: "auto, always or never: the progress bar's color")
    static let timeout = Variable(
        name: "E2H_TIMEOUT", option: "", meaning: "seconds a request may take, and `follow` waits for a lost e2hd (60)")
    static let priority = Variable(name: "E2H_PRIORITY", option: "--priority", meaning: "submit's priority (0)")
    static let limit = Variable(
        name: "E2H_LIMIT", option: "--limit", meaning: "how many runs or groups are listed (50)")

    /// Every variable, in the order `--help` and the README list them.
    static let all = [url, token, stateDir, output, color, timeout, priority, limit]

    /// This process's, checked once at start (`E2H.main`): a bad value is a usage error before any command runs.
    static let current = ClientEnvironment(ProcessInfo.processInfo.environment)

    private let values: [String: String]
    /// The proxy variables curl reads (`ProxyEnvironment`): not e2h's own, so never listed, but checked like them.
    private let proxies: Result<ProxyEnvironment, OutboundError>

    init(_ environment: [String: String]) {
        proxies = Result { () throws(OutboundError) in try ProxyEnvironment(environment) }
        var values: [String: String] = [:]
        for variable in Self.all {
            if let value = environment[variable.name], !value.isEmpty { values[variable.name] = value }
        }
        // Read by the color rule; not one of e2h's own, so never listed.
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { values["NO_COLOR"] = noColor }
        self.values = values
    }

    /// A variable's value, nil when unset or empty.
    func text(_ variable: Variable) -> String? { values[variable.name] }

    /// The variables that are set, as `e2h doctor` shows them: the token's value is a secret and stays hidden.
    var listing: [String] {
        Self.all.compactMap { variable in
            text(variable).map { "\(variable.name)=\(variable == Self.token ? "(hidden)" : $0)" }
        }
    }

    /// Every value parses: the first that does not, as a usage error naming the variable and what it accepts.
    func check() throws(ClientError) {
        _ = try parsedOutput()
        _ = try parsedColor()
        _ = try parsedTimeout()
        _ = try integer(Self.priority, in: RunPriority.range)
        _ = try integer(Self.limit, in: 1...1000)
        _ = try parsedProxies()
    }

    /// The proxy requests to `url` go through; nil when they go directly.
    func proxy(for url: URL) throws(ClientError) -> ProxyEnvironment.Proxy? { try parsedProxies().proxy(for: url) }

    private func parsedProxies() throws(ClientError) -> ProxyEnvironment {
        do {
            return try proxies.get()
        } catch {
            throw ClientError(.usage, error.message)
        }
    }

    // The defaults themselves, each in one place. Read after `check()`, so a value that does not parse is not
    // silently replaced: the process has already stopped with its message.

    var output: OutputFormat { (try? parsedOutput()) ?? .table }
    var requestTimeout: Double { (try? parsedTimeout()) ?? 60 }
    var priority: Int { (try? integer(Self.priority, in: RunPriority.range)) ?? 0 }
    var limit: Int { (try? integer(Self.limit, in: 1...1000)) ?? 50 }

    /// Whether to color what goes to a terminal (`terminal`) or elsewhere.
    func colors(terminal: Bool) -> Bool {
        switch (try? parsedColor()) ?? .auto {
        case .always: true
        case .never: false
        case .auto: terminal && values["NO_COLOR"] == nil
        }
    }

    enum ColorChoice: String, CaseIterable { case auto, always, never }

    private func parsedOutput() throws(ClientError) -> OutputFormat? { try choice(Self.output, OutputFormat.self) }

    private func parsedColor() throws(ClientError) -> ColorChoice? { try choice(Self.color, ColorChoice.self) }

    /// Seconds, finite and positive: a request must end, and a zero timeout would fail every one.
    private func parsedTimeout() throws(ClientError) -> Double? {
        guard let text = text(Self.timeout) else { return nil }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw ClientError(.usage, "E2H_TIMEOUT=\(text) is not a number of seconds in (0, 86400]")
        }
        return seconds
    }

    private func integer(_ variable: Variable, in range: ClosedRange<Int>) throws(ClientError) -> Int? {
        guard let text = text(variable) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ClientError(.usage, "\(variable.name)=\(text) is not a whole number in \(range)")
        }
        return value
    }

    private func choice<T: RawRepresentable & CaseIterable>(
        _ variable: Variable, _ type: T.Type
    ) throws(ClientError) -> T? where T.RawValue == String {
        guard let text = text(variable) else { return nil }
        guard let value = T(rawValue: text.lowercased()) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ClientError(.usage, "\(variable.name)=\(text) is not one of \(names)")
        }
        return value
    }

    /// The table `e2h --help` shows: variable, the option it is the default of, what it sets.
    static var helpText: String {
        let nameWidth = all.map(\.name.count).max() ?? 0
        let optionWidth = all.map(\.option.count).max() ?? 0
        let rows = all.map { variable in
            "  " + variable.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + (variable.option.isEmpty ? "-" : variable.option).padding(
                    toLength: optionWidth, withPad: " ", startingAt: 0) + "  " + variable.meaning
        }
        return (["Environment (an option on the command line wins; an empty variable is unset):"] + rows)
            .joined(separator: "\n")
    }
}
