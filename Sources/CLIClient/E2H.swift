import ArgumentParser
import BuildStamp
import Foundation
import WireTypes

/// `e2h`: the client of e2hd.
@main
struct E2H: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2h",
        abstract: "Submit, follow, compare and replay easy-to-hard experiments run by e2hd.",
        discussion: "Exit codes: 0 ok, 1 failure, 2 usage or validation error, 3 daemon unreachable.\n\n"
            + ClientEnvironment.helpText,
        version: "\(BuildStamp.version) (\(BuildStamp.commit))",
        subcommands: [
            Validate.self, Submit.self, Runs.self, Groups.self, Show.self, Follow.self, Cancel.self, Resume.self,
            Tag.self, Note.self, Compare.self, Select.self, Plot.self, Open.self,
            Replay.self, Verify.self, Receipt.self, Export.self, Import.self, Collect.self,
            Hooks.self, Doctor.self, Completion.self,
        ])

    /// ArgumentParser exits 64 on a bad command line; e2h's contract (above) is 2 for every usage error, so a
    /// script tells a bad invocation from a failed one by one rule.
    static func main() async {
        do {
            var command = try parseAsRoot()
            // The E2H_* defaults are checked before any command runs: a bad value stops here with its name. Doctor
            // reports it among its findings instead.
            do {
                if !(command is Doctor) { try ClientEnvironment.current.check() }
            } catch {
                FileHandle.standardError.write(Data(("e2h: " + error.message + "\n").utf8))
                Foundation.exit(error.code.exitCode)
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            // Output that could not be written (a full disk, a closed file) is a failure, not a success that printed
            // nothing: `e2h runs --json > /dev/full` exited 0. (`fflush(nil)` flushes standard output among all C
            // streams; Swift 6 refuses to name the C global `stdout`.)
            if fflush(nil) != 0 {
                FileHandle.standardError.write(
                    Data("e2h: cannot write standard output: \(String(cString: strerror(errno)))\n".utf8))
                Foundation.exit(ClientError.Code.failure.exitCode)
            }
        } catch {
            guard exitCode(for: error) != .validationFailure else {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ClientError.Code.usage.exitCode)
            }
            exit(withError: error)
        }
    }

    /// Runs a command body, turning `ClientError` into its message on stderr and its exit code.
    static func guarded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ClientError {
            FileHandle.standardError.write(Data(("e2h: " + error.message + "\n").utf8))
            throw ExitCode(error.code.exitCode)
        }
    }
}

/// Where the daemon is.
struct ConnectionFlags: ParsableArguments {
    @Option(help: "e2hd's URL (default: from the state directory's daemon.json, or E2H_URL).")
    var url: String?

    @Option(help: "Bearer token (default: the state directory's token file, or E2H_TOKEN).")
    var token: String?

    @Option(help: "e2hd's state directory (default $XDG_STATE_HOME/e2h or ~/.local/state/e2h).")
    var stateDir: String?

    func client() throws -> DaemonClient {
        try DaemonClient(options: ConnectionOptions(url: url, token: token, stateDir: stateDir))
    }
}

/// Table, JSON or CSV: a flag, else `E2H_OUTPUT`, else the table.
struct OutputFlags: ParsableArguments {
    @Flag(name: .customLong("json"), help: "Print JSON (default: E2H_OUTPUT, else a table).")
    var jsonFlag = false

    @Flag(name: .customLong("csv"), help: "Print CSV (default: E2H_OUTPUT, else a table).")
    var csvFlag = false

    func validate() throws {
        if jsonFlag && csvFlag { throw ValidationError("choose one of --json and --csv") }
    }

    /// What the command line asked for; nil when it named no format.
    var given: OutputFormat? { jsonFlag ? .json : csvFlag ? .csv : nil }
    var format: OutputFormat { given ?? ClientEnvironment.current.output }
    var json: Bool { format == .json }
    var csv: Bool { format == .csv }
}

/// `--json` of a command that prints JSON or text (no CSV): the flag, or `E2H_OUTPUT=json`.
enum JSONOutput {
    static let help: ArgumentHelp = "Print JSON (default: E2H_OUTPUT=json, else text)."

    static func wanted(_ flag: Bool) -> Bool { flag || ClientEnvironment.current.output == .json }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = StateDirectory.jsonEncoder
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Reads a file the user named, with a message that says which file when it cannot, and why.
func readUserFile(_ path: String) throws -> Data {
    try requireReadableFile(path)
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ClientError(.usage, "cannot read \(path)")
    }
    return data
}

/// Throws, saying why, unless `path` names a readable file: missing, a directory, or not readable by this user.
func requireReadableFile(_ path: String) throws {
    var isDirectory: ObjCBool = false
    let reason =
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            "no such file"
        } else if isDirectory.boolValue {
            "it is a directory; name a file"
        } else if !FileManager.default.isReadableFile(atPath: path) {
            "permission denied"
        } else {
            nil as String?
        }
    if let reason { throw ClientError(.usage, "cannot read \(path): \(reason)") }
}
