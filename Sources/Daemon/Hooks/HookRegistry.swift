import Canonical
import Crypto
import EventStore
import Foundation
import WireTypes

/// The registered webhooks: add (checked, with a secret made here when none is given), list with how their
/// deliveries went, remove (with the deliveries still pending).
struct HookRegistry {
    let queue: Queue

    func add(_ request: HookRequest) async throws -> HookCreated {
        let checked = try Self.checked(request)
        let secret = checked.secret ?? Hex.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        let id = UUID().uuidString.lowercased()
        try await queue.store.execute(
            "INSERT INTO webhooks (id, url, triggers, format, secret) VALUES ($1, $2, $3, $4, $5)",
            [
                .text(id), .text(checked.url), .textArray(checked.triggers.map(\.rawValue)),
                .text(checked.format.rawValue), .text(secret),
            ])
        guard let hook = try await list().first(where: { $0.id == id }) else {
            throw DaemonError(.internalError, "the webhook \(id) was added but cannot be read back")
        }
        return HookCreated(hook: hook, secret: secret)
    }

    /// Oldest first.
    /// A hook's URL as listings show it: a password in it is a secret, shown as `***` (`hooks list` printed it).
    static func shown(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    func list() async throws -> [Hook] {
        let rows = try await queue.store.execute(
            """
            SELECT h.id, h.url, array_to_string(h.triggers, ',') AS triggers, h.format, h.created_at,
                count(d.delivered_at) AS delivered,
                count(d.id) FILTER (WHERE d.delivered_at IS NULL AND d.abandoned_at IS NULL) AS pending,
                count(d.abandoned_at) AS abandoned,
                (SELECT e.last_error FROM webhook_deliveries e WHERE e.webhook_id = h.id AND e.last_error IS NOT NULL
                    ORDER BY e.id DESC LIMIT 1) AS last_error
            FROM webhooks h LEFT JOIN webhook_deliveries d ON d.webhook_id = h.id
            GROUP BY h.id ORDER BY h.created_at, h.id
            """)
        return try (0..<rows.count).map { row in
            func required<T>(_ value: T?, _ column: String) throws -> T { try RunTable.required(value, column) }
            let triggers = try required(rows.string(row, "triggers"), "triggers").split(separator: ",")
            let formatText = try required(rows.string(row, "format"), "format")
            guard let format = HookFormat(rawValue: formatText) else {
                throw DaemonError(.internalError, "a webhook has the unknown format \(formatText)")
            }
            return Hook(
                id: try required(rows.string(row, "id"), "id"),
                url: Self.shown(try required(rows.string(row, "url"), "url")),
                triggers: triggers.compactMap { HookTrigger(rawValue: String($0)) }, format: format,
                createdAt: try required(rows.date(row, "created_at"), "created_at"),
                delivered: try rows.int(row, "delivered") ?? 0, pending: try rows.int(row, "pending") ?? 0,
                abandoned: try rows.int(row, "abandoned") ?? 0, lastError: try rows.string(row, "last_error"))
        }
    }

    func remove(_ id: String) async throws {
        let removed = try await queue.store.execute("DELETE FROM webhooks WHERE id = $1 RETURNING id", [.text(id)])
        guard removed.count == 1 else { throw DaemonError(.notFound, "no webhook \(id) — `e2h hooks list` lists them") }
    }

    /// The request as stored: an http(s) URL with a host, at least one trigger (each once, in the triggers' order),
    /// and a secret that is not empty where one is given.
    static func checked(_ request: HookRequest) throws -> HookRequest {
        guard let url = URL(string: request.url), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
            url.host?.isEmpty == false, request.url.utf8.count <= 2048
        else {
            throw DaemonError(.badRequest, "the webhook URL must be an http:// or https:// URL with a host")
        }
        let triggers = HookTrigger.allCases.filter(request.triggers.contains)
        guard !triggers.isEmpty else {
            throw DaemonError(
                .badRequest, "a webhook needs at least one of \(HookTrigger.allCases.map(\.rawValue)) to listen for")
        }
        if let secret = request.secret {
            guard !secret.isEmpty, secret.utf8.count <= 4096 else {
                throw DaemonError(.badRequest, "the webhook secret must be between 1 and 4096 bytes")
            }
        }
        return HookRequest(url: request.url, triggers: triggers, format: request.format, secret: request.secret)
    }
}
