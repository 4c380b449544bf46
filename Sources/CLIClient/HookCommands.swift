import ArgumentParser
import Foundation
import WireTypes

/// `e2h hooks add|list|remove`: webhooks the daemon tells when a run completes, fails, is cancelled or stalls.
struct Hooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Webhooks told when runs complete, fail, are cancelled or stall.",
        discussion: """
            Each delivery is a POST signed with HMAC-SHA256 over its exact body (header X-E2H-Signature: \
            sha256=<hex>), retried with exponential backoff until the receiver answers 2xx, across daemon restarts. \
            X-E2H-Delivery names the delivery: the same on every retry of it.
            """,
        subcommands: [HooksAdd.self, HooksList.self, HooksRemove.self])
}

struct HooksAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Register a webhook.")

    @Argument(help: "The http:// or https:// URL to POST to.") var url: String
    @Option(
        name: .customLong("on"),
        help: "What to tell, comma-separated: \(HookTrigger.allCases.map(\.rawValue).joined(separator: ", ")).")
    var triggers: String
    @Flag(help: "Send Slack's {\"text\": …} body instead of e2h's JSON.") var slack = false
    @Option(help: "A file holding the signing secret (default: the daemon makes one and prints it once).")
    var secretFile: String?
    @OptionGroup var connection: ConnectionFlags
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { _ = try Self.parse(triggers) }

    static func parse(_ text: String) throws -> [HookTrigger] {
        let known = HookTrigger.allCases.map(\.rawValue).joined(separator: ", ")
        return try text.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let trigger = HookTrigger(rawValue: trimmed) else {
                throw ValidationError("unknown event \(trimmed) for --on: one of \(known)")
            }
            return trigger
        }
    }

    /// A secret file's text less its line end, which `echo secret > file` adds: spaces are the secret's own, and
    /// receivers check signatures with the file's bytes (every space at either end was dropped).
    static func secret(inFile text: String) -> String {
        // "\r\n" is one Character.
        text.last == "\n" || text.last == "\r\n" ? String(text.dropLast()) : text
    }

    func run() async throws {
        try await E2H.guarded {
            let secret = try secretFile.map { path in
                do {
                    return Self.secret(inFile: try String(contentsOfFile: path, encoding: .utf8))
                } catch {
                    throw ClientError(.usage, "cannot read the secret file \(path)", cause: error)
                }
            }
            let request = HookRequest(
                url: url, triggers: try Self.parse(triggers), format: slack ? .slack : .json, secret: secret)
            let created = try await connection.client().post("v1/hooks", body: request, as: HookCreated.self)
            if json { return try printJSON(created) }
            let hook = created.hook
            print("hook \(hook.id) added: \(hook.url) on \(hook.triggers.map(\.rawValue).joined(separator: ","))")
            if secretFile == nil {
                print("secret: \(created.secret)")
                print("(shown this once: receivers check X-E2H-Signature = sha256=HMAC-SHA256(secret, body))")
            }
        }
    }
}

struct HooksList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the webhooks and how their deliveries went.")

    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func run() async throws {
        try await E2H.guarded {
            let list = try await connection.client().get("v1/hooks", as: HookList.self)
            if output.json { return try printJSON(list) }
            let table = TextTable(
                header: ["HOOK", "URL", "ON", "FORMAT", "DELIVERED", "PENDING", "ABANDONED", "LAST ERROR"],
                rows: list.hooks.map { hook in
                    [
                        hook.id, hook.url, hook.triggers.map(\.rawValue).joined(separator: ","), hook.format.rawValue,
                        "\(hook.delivered)", "\(hook.pending)", "\(hook.abandoned)", hook.lastError ?? "",
                    ]
                })
            print(output.csv ? table.csv() : table.rendered())
        }
    }
}

struct HooksRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a webhook and the deliveries it still had pending.")

    @Argument(help: "The hook's id (`e2h hooks list`).") var hook: String
    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        try await E2H.guarded {
            try await connection.client().delete("v1/hooks/\(hook)")
            print("hook \(hook) removed")
        }
    }
}
