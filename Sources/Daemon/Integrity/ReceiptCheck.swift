import WireTypes

/// The comparison of a signed head with what the database holds now, as a value: each finding says what was done
/// to the data. Everything it needs is observed first (`RunIntegrity`), so every kind of tampering is tested
/// without a database.
struct ReceiptCheck: Sendable, Equatable {
    /// What the chain looks like now, at the point the receipt signed.
    struct Observed: Sendable, Equatable {
        /// Events in the chain now (a run's version, the log's position).
        var length: Int64
        /// The hash recomputed from the events at the signed length; nil when the chain no longer reaches it.
        var hashAtSigned: String?
        /// Why the chain does not verify on its own, when it does not.
        var broken: String?
    }

    /// "the run's chain", "the log".
    var subject: String
    var signed: ChainHead
    var observed: Observed

    var problems: [String] {
        // No chain has fewer than no events: such a head was written by hand, and its "hash" says nothing.
        guard signed.length >= 0 else {
            return ["the receipt signs \(subject) at \(signed.length) events, which no chain has: it was altered"]
        }
        var found: [String] = []
        if let broken = observed.broken { found.append("\(subject) does not verify: \(broken)") }
        if observed.length < signed.length {
            found.append(
                "\(subject) ends at \(observed.length) events, but \(signed.length) were signed: "
                    + "\(signed.length - observed.length) events were removed and the head rewound (a cut tail, or "
                    + "a restore of an older copy)")
        } else if let hash = observed.hashAtSigned, hash != signed.hash {
            found.append(
                "\(subject) hashes to \(hash.prefix(12))… at \(signed.length) events, but \(signed.hash.prefix(12))… "
                    + "was signed: its history was rewritten after the signature (every hash recomputed)")
        } else if observed.hashAtSigned == nil && observed.broken == nil {
            found.append("\(subject) cannot be recomputed up to the \(signed.length) events that were signed")
        }
        return found
    }
}
