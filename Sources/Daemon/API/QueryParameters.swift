import Foundation

/// A request's query parameters, read strictly: a value that is not a number, not finite (`nan`, `inf`,
/// `1e999`), or outside the route's range is a 400 that names the parameter and what it accepts — never a
/// trap further down (`Int(wait * 1000)` on a NaN once killed the daemon) and never a database error.
struct QueryParameters: Sendable {
    /// Each name's first value.
    let values: [String: String]

    init(_ pairs: some Sequence<(String, String)>) {
        // The first occurrence counts, as most servers do; a repeated name cannot smuggle a second value past.
        var values: [String: String] = [:]
        for (name, value) in pairs where values[name] == nil { values[name] = value }
        self.values = values
    }

    /// A URL's raw query, read as an HTML form encodes one (`application/x-www-form-urlencoded`): `+` is a space, as
    /// browsers' GET forms and most HTTP libraries write one, then percent escapes are decoded.
    init(query: String?) {
        func decoded(_ part: Substring) -> String {
            let spaced = part.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        self.init(
            (query ?? "").split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : "")
            })
    }

    func string(_ name: String) -> String? { values[name] }

    func integer<T: FixedWidthInteger & Sendable>(
        _ name: String, default value: T, in range: ClosedRange<T>
    ) throws -> T {
        guard let text = values[name] else { return value }
        guard let parsed = T(text), range.contains(parsed) else {
            throw DaemonError(.badRequest, "\(name)=\(text.prefix(40)) is not allowed: give a whole number in \(range)")
        }
        return parsed
    }

    /// `true` or `false`; absent is false.
    func flag(_ name: String) throws -> Bool {
        switch values[name] {
        case nil, "false": return false
        case "true": return true
        case let text?:
            throw DaemonError(.badRequest, "\(name)=\(text.prefix(40)) is not allowed: give true or false")
        }
    }

    /// `after=V`: the version after which a stream is read. At most `Int64.max - 1`, since the read starts at `V + 1`:
    /// `after=9223372036854775807` overflowed that addition and killed the daemon (found by schemathesis).
    func versionAfter() throws -> Int64 {
        try integer("after", default: 0, in: 0...Int64.max - 1)
    }

    func seconds(_ name: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let text = values[name] else { return value }
        guard let parsed = Double(text), parsed.isFinite, range.contains(parsed) else {
            throw DaemonError(
                .badRequest, "\(name)=\(text.prefix(40)) is not allowed: give a number of seconds in \(range)")
        }
        return parsed
    }
}
