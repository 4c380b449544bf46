import EventStore
import Foundation
import WireTypes

/// The webhooks' outbox: one row per hook that wants to hear of a lifecycle change, written in the transaction that
/// records the change (`RunTable.apply`), so a committed run end always has its deliveries and a rolled-back one
/// never does. `HookSender` sends them.
enum HookOutbox {
    /// NOTIFYed when deliveries are written, so the sender does not wait for its next poll.
    static let channel = "e2h_hook_outbox"

    /// Writes a delivery for every hook listening for `trigger`; nothing when none is.
    static func enqueue(
        _ tx: Transaction, run id: String, _ trigger: HookTrigger, event: DaemonEvent?, state: RunState, now: Date
    ) throws {
        let listening = try tx.query(
            "SELECT count(*) AS n FROM webhooks WHERE $1 = ANY (triggers)", [.text(trigger.rawValue)])
        guard try listening.int(0, "n") ?? 0 > 0 else { return }
        let row = try tx.query("SELECT name, replay_of FROM runs WHERE id = $1", [.text(id)])
        let name = try RunTable.required(row.string(0, "name"), "name")
        let notification = HookMessage.notification(
            trigger, event: event, run: id, name: name, state: state, at: now, replayOf: try row.string(0, "replay_of"))
        _ = try tx.query(
            """
            INSERT INTO webhook_deliveries (webhook_id, run_id, trigger, body)
            SELECT id, $1, $2, CASE format WHEN 'slack' THEN $4 ELSE $3 END FROM webhooks WHERE $2 = ANY (triggers)
            ORDER BY created_at, id
            """,
            [
                .text(id), .text(trigger.rawValue), .bytes(try HookMessage.body(notification, format: .json)),
                .bytes(try HookMessage.body(notification, format: .slack)),
            ])
        try tx.notify(channel, payload: id)
    }
}
