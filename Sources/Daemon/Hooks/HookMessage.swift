import Canonical
import Crypto
import Foundation
import WireTypes

/// A delivery's bytes and signature, without I/O: the body is fixed when the outbox row is written, and every try
/// sends and signs exactly those bytes.
enum HookMessage {
    /// The header that carries the signature: "sha256=" and the hex HMAC-SHA256 of the body under the hook's secret.
    static let signatureHeader = "X-E2H-Signature"
    /// The outbox row's id, the same on every retry: a receiver that saw it already can ignore a repeat.
    static let deliveryHeader = "X-E2H-Delivery"
    /// The trigger ("completed", ...), so a receiver can route before parsing.
    static let triggerHeader = "X-E2H-Event"

    static func body(_ notification: HookNotification, format: HookFormat) throws -> Data {
        switch format {
        case .json:
            return try CanonicalJSON.encode(notification)
        case .slack:
            // Slack's incoming webhooks (and Mattermost, Discord's /slack endpoint) take `{"text": …}`.
            var text = "e2h run *\(notification.name)* (`\(notification.run)`) \(notification.trigger.rawValue)"
            if let original = notification.replayOf {
                text =
                    "e2h replay of *\(notification.name)* (`\(original)`) \(notification.trigger.rawValue): "
                    + notification.detail
            } else if notification.trigger != .completed {
                text += ": \(notification.detail)"
            }
            return try CanonicalJSON.encode(["text": text])
        }
    }

    static func signature(of body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Hex.encode(mac.withUnsafeBytes { Data($0) })
    }

    /// What a webhook is told of a lifecycle change: the completed run's summary, or why it failed, was cancelled or
    /// stalled, from the event that records it.
    static func notification(
        _ trigger: HookTrigger, event: DaemonEvent?, run: String, name: String, state: RunState, at time: Date,
        replayOf: String? = nil
    ) -> HookNotification {
        let detail: String =
            switch event {
            case .completed(let completed)?: completed.summary
            case .failed(let failed)?: failed.reason
            case .cancelled(let cancelled)?: cancelled.reason
            case .interrupted(let interrupted)?: interrupted.reason
            default: ""
            }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return HookNotification(
            trigger: trigger, run: run, name: name, state: state, detail: detail,
            occurredAt: formatter.string(from: time), replayOf: replayOf)
    }
}
