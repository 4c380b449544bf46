internal import CYAML

/// Reads one YAML document into `YAMLNode`s through libyaml's event API.
///
/// The event API (rather than libyaml's document loader) lets us count alias expansions and
/// nesting while reading, so hostile documents fail early with a located message.
struct YAMLReader {
    struct Failure: Error {
        var line: Int
        var column: Int
        var message: String
    }

    var limits = YAMLLimits()

    func read(_ text: String) throws(Failure) -> YAMLNode? {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maximumBytes else {
            throw Failure(
                line: 1, column: 1, message: "the spec is \(bytes.count) bytes; the limit is \(limits.maximumBytes)")
        }
        let parser = EventParser(bytes: bytes)
        var builder = TreeBuilder(limits: limits)
        while true {
            let event = try parser.next()
            if try builder.consume(event) { break }
        }
        return builder.root
    }
}

/// Owns a libyaml parser and the input it reads; `deinit` frees both.
private final class EventParser {
    private var parser = yaml_parser_t()
    private let input: UnsafeMutablePointer<UInt8>
    private let count: Int

    init(bytes: [UInt8]) {
        count = bytes.count
        input = .allocate(capacity: max(bytes.count, 1))
        input.initialize(from: bytes, count: bytes.count)
        yaml_parser_initialize(&parser)
        yaml_parser_set_input_string(&parser, input, count)
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
    }

    deinit {
        yaml_parser_delete(&parser)
        input.deallocate()
    }

    func next() throws(YAMLReader.Failure) -> ParsedEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
            let mark = parser.problem_mark
            var problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
            var context = parser.context.map { String(cString: $0) + ", " } ?? ""
            // libyaml's words for a tab where a token should start say nothing of tabs, the usual cause.
            if mark.index < count, input[Int(mark.index)] == UInt8(ascii: "\t") {
                context = ""
                problem = "a tab cannot indent YAML or start a value: use spaces"
            }
            throw YAMLReader.Failure(
                line: Int(mark.line) + 1, column: Int(mark.column) + 1, message: "\(context)\(problem)")
        }
        defer { yaml_event_delete(&event) }
        let line = Int(event.start_mark.line) + 1
        let column = Int(event.start_mark.column) + 1
        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int? = nil) -> String? {
            guard let pointer else { return nil }
            if let length {
                return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
            }
            return String(cString: pointer)
        }
        // A tag would change what a value is (`!!str 5` is a string) while every key reads its value by its text
        // alone, so `seed: !!str 5` was read as the integer 5: refuse it rather than read it as something else.
        let tag: UnsafeMutablePointer<yaml_char_t>? =
            switch event.type {
            case YAML_SCALAR_EVENT: event.data.scalar.tag
            case YAML_SEQUENCE_START_EVENT: event.data.sequence_start.tag
            case YAML_MAPPING_START_EVENT: event.data.mapping_start.tag
            default: nil
            }
        if let tag {
            throw YAMLReader.Failure(
                line: line, column: column,
                message: "the tag '\(String(cString: tag))' is not read: write the value without it (quote it for text)"
            )
        }
        let kind: ParsedEvent.Kind
        switch event.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            kind = .scalar(
                string(scalar.value, length: Int(scalar.length)) ?? "",
                anchor: string(scalar.anchor),
                plain: scalar.style == YAML_PLAIN_SCALAR_STYLE || scalar.style == YAML_ANY_SCALAR_STYLE)
        case YAML_SEQUENCE_START_EVENT: kind = .sequenceStart(anchor: string(event.data.sequence_start.anchor))
        case YAML_MAPPING_START_EVENT: kind = .mappingStart(anchor: string(event.data.mapping_start.anchor))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: kind = .collectionEnd
        case YAML_ALIAS_EVENT: kind = .alias(string(event.data.alias.anchor) ?? "")
        case YAML_DOCUMENT_START_EVENT: kind = .documentStart
        case YAML_STREAM_END_EVENT: kind = .streamEnd
        default: kind = .other
        }
        return ParsedEvent(kind: kind, line: line, column: column)
    }
}

private struct ParsedEvent {
    enum Kind {
        case scalar(String, anchor: String?, plain: Bool)
        case sequenceStart(anchor: String?)
        case mappingStart(anchor: String?)
        case collectionEnd
        case alias(String)
        case documentStart
        case streamEnd
        case other
    }
    var kind: Kind
    var line: Int
    var column: Int
}

/// Assembles nodes from events with an explicit stack (no recursion, so depth cannot overflow).
private struct TreeBuilder {
    private struct Open {
        var isMapping: Bool
        var anchor: String?
        var line: Int
        var column: Int
        var items: [YAMLNode] = []
        var weight = 1
    }

    let limits: YAMLLimits
    private(set) var root: YAMLNode?
    private var stack: [Open] = []
    private var anchors: [String: YAMLNode] = [:]
    private var totalWeight = 0
    private var documents = 0

    init(limits: YAMLLimits) { self.limits = limits }

    /// Returns true at the end of the stream.
    mutating func consume(_ event: ParsedEvent) throws(YAMLReader.Failure) -> Bool {
        func fail(_ message: String) -> YAMLReader.Failure {
            YAMLReader.Failure(line: event.line, column: event.column, message: message)
        }
        switch event.kind {
        case .streamEnd:
            return true
        case .documentStart:
            documents += 1
            if documents > 1 { throw fail("a spec is one YAML document; found a second one") }
        case .scalar(let text, let anchor, let plain):
            let node = YAMLNode(value: .scalar(text, plain: plain), line: event.line, column: event.column, weight: 1)
            try add(node, anchor: anchor, newNodes: 1, event: event)
        case .alias(let name):
            guard var node = anchors[name] else { throw fail("alias '*\(name)' names no anchor defined before it") }
            node.line = event.line
            node.column = event.column
            try add(node, anchor: nil, newNodes: node.weight, event: event)
        case .sequenceStart(let anchor), .mappingStart(let anchor):
            guard stack.count < limits.maximumDepth else {
                throw fail("nesting deeper than \(limits.maximumDepth) levels")
            }
            var isMapping = false
            if case .mappingStart = event.kind { isMapping = true }
            stack.append(Open(isMapping: isMapping, anchor: anchor, line: event.line, column: event.column))
        case .collectionEnd:
            guard let open = stack.popLast() else { throw fail("unbalanced collection end") }
            let value: YAMLNode.Value
            if open.isMapping {
                var pairs: [(key: YAMLNode, value: YAMLNode)] = []
                var index = 0
                while index + 1 < open.items.count {
                    pairs.append((open.items[index], open.items[index + 1]))
                    index += 2
                }
                value = .mapping(pairs)
            } else {
                value = .sequence(open.items)
            }
            let node = YAMLNode(value: value, line: open.line, column: open.column, weight: open.weight)
            // Its children were counted as they arrived; only the collection itself is new.
            try add(node, anchor: open.anchor, newNodes: 1, event: event)
        case .other:
            break
        }
        return false
    }

    private mutating func add(
        _ node: YAMLNode, anchor: String?, newNodes: Int, event: ParsedEvent
    ) throws(YAMLReader.Failure) {
        totalWeight += newNodes
        guard totalWeight <= limits.maximumNodes else {
            throw YAMLReader.Failure(
                line: event.line, column: event.column,
                message: "more than \(limits.maximumNodes) nodes after alias expansion")
        }
        if let anchor { anchors[anchor] = node }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].items.append(node)
            stack[stack.count - 1].weight += node.weight
        }
    }
}
