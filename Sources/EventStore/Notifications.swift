import Foundation

extension EventStore {
    /// The channel the log's migration NOTIFYs once per committing transaction that appended (its payload is
    /// constant, so PostgreSQL folds a transaction's notifications into one). A hint to re-read, never a delivery.
    public static let appendedChannel = "e2h_events"

    /// Calls `handler` with the payload of every NOTIFY on `channel` from about now on (on the store's listener
    /// thread: keep it short), and with nil after each (re)connection of the listening session, when
    /// notifications may have been lost: a hint to re-check, never the only way a client learns of a change.
    /// `channel` is a plain name: lowercase letters, digits and underscores.
    public func onNotification(_ channel: String, _ handler: @escaping @Sendable (_ payload: String?) -> Void) throws {
        guard !channel.isEmpty,
            channel.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 })
        else {
            throw EventStoreError(code: .invalidArgument, message: "\(channel) is not a plain name for a channel")
        }
        sharedListener().register(channel: channel, handler)
    }
}

extension Transaction {
    /// NOTIFY `channel` with `payload` when (and only if) the transaction commits.
    public func notify(_ channel: String, payload: String) throws {
        _ = try query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }
}
