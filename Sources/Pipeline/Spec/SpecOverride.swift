/// One `--set path=v1,v2,...`: a dotted path into the spec (`policy.sft.learning_rate`,
/// `evaluators[3].optimization.steps`) and the values a sweep tries, in order. Each value is YAML
/// (`1e-3`, `true`, `[1, 2, 4]`); commas inside brackets belong to the value.
public struct SpecOverride: Sendable, Equatable {
    public var path: String
    public var values: [String]
    public var origin: Origin

    /// Where an override was written, so that a problem with it is reported where the user can fix it.
    public enum Origin: Sendable, Equatable {
        /// `--set` on the command line.
        case commandLine
        /// The spec's `sweep.set` block, at the position of the path's key.
        case sweep(file: String, line: Int, column: Int)
    }

    public init(path: String, values: [String], origin: Origin = .commandLine) {
        self.path = path
        self.values = values
        self.origin = origin
    }

    public init(parsing argument: String) throws {
        guard let equals = argument.firstIndex(of: "=") else {
            throw Self.invalid("'\(argument)' is not path=value[,value...], e.g. policy.sft.learning_rate=1e-3,3e-3")
        }
        let path = String(argument[..<equals]).trimmingWhitespace()
        var values: [String] = []
        var current = ""
        var depth = 0
        for character in argument[argument.index(after: equals)...] {
            switch character {
            case "[", "{": depth += 1
            case "]", "}": depth -= 1
            case "," where depth == 0:
                values.append(current.trimmingWhitespace())
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        values.append(current.trimmingWhitespace())
        guard !path.isEmpty, (try? Self.segments(path)) != nil else {
            throw Self.invalid("'\(path)' is not a dotted path such as policy.sft.learning_rate or evaluators[0].name")
        }
        guard !values.contains(where: \.isEmpty) else { throw Self.invalid("--set \(path): a value is empty") }
        self.init(path: path, values: values)
    }

    /// The `--set` argument this override parses from: `path=v1,v2`.
    public var argument: String { "\(path)=" + values.joined(separator: ",") }

    /// A dotted path's steps as JSON keys and list indices (`evaluators[0].name` → evaluators, 0, name): where the
    /// value lives in a canonical spec's JSON.
    public static func jsonPath(_ path: String) throws -> [String] {
        try segments(path).map { segment in
            switch segment {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }
    }

    /// A path's steps: mapping keys, and list indices written `key[i]`.
    enum Segment: Equatable {
        case key(String)
        case index(Int)
    }

    static func segments(_ path: String) throws -> [Segment] {
        var segments: [Segment] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            guard let nameEnd = rest.firstIndex(of: "[") ?? Optional(rest.endIndex), nameEnd > rest.startIndex else {
                throw invalid("'\(path)' has an empty key")
            }
            segments.append(.key(String(rest[..<nameEnd])))
            rest = rest[nameEnd...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                    let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0
                else { throw invalid("'\(path)': write a list item as key[index]") }
                segments.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
        }
        return segments
    }

    static func invalid(_ message: String) -> PipelineError { PipelineError(code: .invalidSpec, message: message) }

    /// A problem with this override, where it was written: `--set path: message`, or the sweep block's
    /// file:line:column.
    func refusal(_ message: String) -> PipelineError {
        switch origin {
        case .commandLine: return Self.invalid("--set \(path): \(message)")
        case .sweep(let file, let line, let column):
            return PipelineError(
                code: .invalidSpec, message: "\(file): 1 problem in the spec's sweep",
                diagnostics: [
                    SpecDiagnostic(
                        file: file, line: line, column: column, keyPath: "sweep.set.\(path)", message: message)
                ])
        }
    }

    /// How a message names this override beside another: `--set path=…` or `sweep.set path (file:line:column)`.
    var source: String {
        switch origin {
        case .commandLine: "--set \(path)=…"
        case .sweep(let file, let line, let column): "sweep.set \(path) (\(file):\(line):\(column))"
        }
    }
}

/// `--seeds a..b` (inclusive) or one seed: the seeds a group repeats each setting with.
public struct SeedRange: Sendable, Equatable {
    public var seeds: ClosedRange<UInt64>

    public init(_ seeds: ClosedRange<UInt64>) { self.seeds = seeds }

    public init(parsing text: String) throws {
        let parts = text.trimmingWhitespace().split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 1, let seed = UInt64(parts[0]) {
            self.init(seed...seed)
        } else if parts.count == 3, parts[1].isEmpty, let low = UInt64(parts[0]), let high = UInt64(parts[2]) {
            guard low <= high else {
                throw SpecOverride.invalid(
                    "the seed range \(text) is empty: write low..high with low ≤ high, e.g. 0..4")
            }
            self.init(low...high)
        } else {
            throw SpecOverride.invalid("'\(text)' is not a seed or a seed range such as 0..4")
        }
    }

    /// The number of seeds, saturating at `Int.max` (0..18446744073709551615 holds 2^64).
    public var count: Int {
        let span = seeds.upperBound - seeds.lowerBound
        return span >= UInt64(Int.max) ? Int.max : Int(span) + 1
    }

    /// The number of seeds in decimal, exact for every range.
    public var countText: String {
        let span = seeds.upperBound - seeds.lowerBound
        return span == .max ? "18446744073709551616" : String(span + 1)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String { String(self).trimmingWhitespace() }
}
