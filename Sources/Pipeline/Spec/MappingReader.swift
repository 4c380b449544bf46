import Analysis

/// Collects every problem found in a spec, so the user sees all of them at once.
final class SpecDiagnostics {
    let file: String
    private(set) var items: [SpecDiagnostic] = []

    init(file: String) { self.file = file }

    func report(_ message: String, at node: YAMLNode?, path: String) {
        items.append(
            SpecDiagnostic(
                file: file, line: node?.line ?? 1, column: node?.column ?? 1, keyPath: path, message: message)
        )
    }
}

/// Reads typed values from one YAML mapping, strictly: wrong types, out-of-range values,
/// unknown and duplicate keys are all reported (with a suggestion for a misspelled key).
final class MappingReader {
    let path: String
    private let node: YAMLNode?
    private let pairs: [(key: YAMLNode, value: YAMLNode)]
    let diagnostics: SpecDiagnostics
    private var knownKeys: [String] = []

    /// A missing node (an absent optional section) reads as an empty mapping: every default applies.
    init(_ node: YAMLNode?, path: String, diagnostics: SpecDiagnostics) {
        self.node = node
        self.path = path
        self.diagnostics = diagnostics
        switch node?.value {
        case .mapping(let pairs)?: self.pairs = pairs
        case .scalar(let text, let plain)? where plain && Self.isNull(text): self.pairs = []
        case nil: self.pairs = []
        case let .some(other):
            self.pairs = []
            let kind = YAMLNode(value: other, line: 0, column: 0, weight: 0).kindName
            diagnostics.report("expected a mapping, found \(kind)", at: node, path: path)
        }
    }

    static func isNull(_ text: String) -> Bool { text.isEmpty || text == "~" || text == "null" || text == "Null" }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value under `key`, or nil (with no diagnostic) when the key is absent or null.
    func value(_ key: String) -> YAMLNode? {
        knownKeys.append(key)
        guard let pair = pairs.first(where: { Self.keyText($0.key) == key }) else { return nil }
        if case .scalar(let text, let plain) = pair.value.value, plain, Self.isNull(text) { return nil }
        return pair.value
    }

    func report(_ message: String, at node: YAMLNode?, key: String) {
        diagnostics.report(message, at: node ?? self.node, path: childPath(key))
    }

    func string(_ key: String, default fallback: String) -> String {
        guard let node = value(key) else { return fallback }
        guard case .scalar(let text, _) = node.value else {
            report("expected a string, found \(node.kindName)", at: node, key: key)
            return fallback
        }
        return text
    }

    func requiredString(_ key: String) -> String {
        guard value(key) != nil else {
            report("missing required key '\(key)'", at: nil, key: key)
            return ""
        }
        return string(key, default: "")
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let node = value(key) else { return fallback }
        return Self.int(node, in: range, path: childPath(key), diagnostics: diagnostics) ?? fallback
    }

    func uint64(_ key: String, default fallback: UInt64) -> UInt64 {
        guard let node = value(key) else { return fallback }
        guard case .scalar(let text, true) = node.value, let parsed = UInt64(text) else {
            report("expected a non-negative integer, found \(Self.describe(node))", at: node, key: key)
            return fallback
        }
        return parsed
    }

    func double(_ key: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        guard let node = value(key) else { return fallback }
        guard case .scalar(let text, true) = node.value, let parsed = Double(text), parsed.isFinite else {
            report(
                "expected a number in \(range.lowerBound)...\(range.upperBound), found \(Self.describe(node))",
                at: node, key: key)
            return fallback
        }
        guard range.contains(parsed) else {
            report("\(text) is out of range: expected \(range.lowerBound)...\(range.upperBound)", at: node, key: key)
            return fallback
        }
        return parsed
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let node = value(key) else { return fallback }
        guard case .scalar(let text, true) = node.value, text == "true" || text == "false" else {
            report("expected true or false, found \(Self.describe(node))", at: node, key: key)
            return fallback
        }
        return text == "true"
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, default fallback: Choice) -> Choice
    where Choice.RawValue == String {
        guard let node = value(key) else { return fallback }
        return Self.choice(node, path: childPath(key), diagnostics: diagnostics) ?? fallback
    }

    func intList(_ key: String, default fallback: [Int], in range: ClosedRange<Int>) -> [Int] {
        guard let items = list(key) else { return fallback }
        let parsed = items.enumerated().map { index, node in
            Self.int(node, in: range, path: "\(childPath(key))[\(index)]", diagnostics: diagnostics)
        }
        return parsed.contains(where: { $0 == nil }) ? fallback : parsed.compactMap { $0 }
    }

    func choiceList<Choice: RawRepresentable & CaseIterable>(_ key: String, default fallback: [Choice]) -> [Choice]
    where Choice.RawValue == String {
        guard let items = list(key) else { return fallback }
        let parsed = items.enumerated().map { index, node in
            Self.choice(node, path: "\(childPath(key))[\(index)]", diagnostics: diagnostics) as Choice?
        }
        return parsed.contains(where: { $0 == nil }) ? fallback : parsed.compactMap { $0 }
    }

    func mapping(_ key: String) -> MappingReader {
        MappingReader(value(key), path: childPath(key), diagnostics: diagnostics)
    }

    /// The items of a list under `key`, or nil when absent (or not a list, which is reported).
    func list(_ key: String) -> [YAMLNode]? {
        guard let node = value(key) else { return nil }
        guard case .sequence(let items) = node.value else {
            report("expected a list, found \(node.kindName)", at: node, key: key)
            return nil
        }
        return items
    }

    /// Reports keys nobody asked for and keys given twice. Call after reading every key.
    func finish() {
        var seen: [String] = []
        for pair in pairs {
            guard let key = Self.keyText(pair.key) else {
                diagnostics.report("keys must be plain strings", at: pair.key, path: path)
                continue
            }
            if seen.contains(key) {
                diagnostics.report("duplicate key '\(key)'", at: pair.key, path: childPath(key))
            }
            seen.append(key)
            guard !knownKeys.contains(key) else { continue }
            guard key != "<<" else {
                diagnostics.report(
                    "merge keys ('<<') are not read: a spec is plain YAML; write the keys out (an alias may stand for a "
                        + "whole value)", at: pair.key, path: childPath(key))
                continue
            }
            var message = "unknown key '\(key)'"
            if let suggestion = Suggestion.closest(to: key, among: knownKeys) {
                message += " — did you mean '\(suggestion)'?"
            } else {
                message += " — expected one of: \(Self.unique(knownKeys).joined(separator: ", "))"
            }
            diagnostics.report(message, at: pair.key, path: childPath(key))
        }
    }

    private static func unique(_ keys: [String]) -> [String] {
        var result: [String] = []
        for key in keys where !result.contains(key) { result.append(key) }
        return result
    }

    private static func keyText(_ node: YAMLNode) -> String? {
        if case .scalar(let text, _) = node.value { return text }
        return nil
    }

    static func describe(_ node: YAMLNode) -> String {
        switch node.value {
        case .scalar(let text, let plain):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return plain ? "'\(shown)'" : "the string \"\(shown)\""
        default: return node.kindName
        }
    }

    static func int(_ node: YAMLNode, in range: ClosedRange<Int>, path: String, diagnostics: SpecDiagnostics) -> Int? {
        guard case .scalar(let text, true) = node.value, let parsed = Int(text) else {
            diagnostics.report(
                "expected an integer in \(range.lowerBound)...\(range.upperBound), found \(describe(node))", at: node,
                path: path)
            return nil
        }
        guard range.contains(parsed) else {
            diagnostics.report(
                "\(parsed) is out of range: expected \(range.lowerBound)...\(range.upperBound)", at: node, path: path)
            return nil
        }
        return parsed
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: YAMLNode, path: String, diagnostics: SpecDiagnostics
    ) -> Choice? where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        guard case .scalar(let text, _) = node.value else {
            diagnostics.report(
                "expected one of \(names.joined(separator: ", ")), found \(node.kindName)", at: node, path: path)
            return nil
        }
        if let parsed = Choice(rawValue: text) { return parsed }
        var message = "unknown value '\(text)'"
        if let suggestion = Suggestion.closest(to: text, among: names) {
            message += " — did you mean '\(suggestion)'?"
        } else {
            message += " — expected one of: \(names.joined(separator: ", "))"
        }
        diagnostics.report(message, at: node, path: path)
        return nil
    }
}
