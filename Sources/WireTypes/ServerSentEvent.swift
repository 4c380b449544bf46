/// One message of a `text/event-stream`, framed and read here so that e2hd's streams and e2h's reader share one
/// definition of the format (https://html.spec.whatwg.org/multipage/server-sent-events.html).
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field: what kind of message `data` holds; nil is the format's default ("message").
    public var event: String?
    /// The `id:` field: the stream position a reconnecting reader resumes after.
    public var id: String?
    public var data: String

    public init(event: String? = nil, id: String? = nil, data: String) {
        self.event = event
        self.id = id
        self.data = data
    }

    /// The message's bytes: one `data:` line per line of `data` (a reader gets the lines back joined by `\n`), and
    /// line breaks dropped from `id` and `event`, so nothing in a field can end the message or start another field.
    public var frame: String {
        var text = ""
        if let id { text += "id: \(Self.oneLine(id))\n" }
        if let event { text += "event: \(Self.oneLine(event))\n" }
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: Self.isLineBreak) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }

    /// A comment: keeps idle connections (and proxies) from timing out; readers ignore it.
    public static let keepAliveFrame = ": keep-alive\n\n"

    private static func oneLine(_ text: String) -> String {
        String(text.filter { !isLineBreak($0) })
    }

    /// The format's line breaks: LF, CR and CR LF (one `Character` in Swift).
    private static func isLineBreak(_ character: Character) -> Bool {
        character == "\n" || character == "\r" || character == "\r\n"
    }
}

/// Reads a `text/event-stream` as its bytes arrive, in chunks that may split a line or a character anywhere.
public struct ServerSentEventReader: Sendable {
    private var line: [UInt8] = []
    private var event: String?
    private var id: String?
    private var data: [String] = []
    /// A `\r` ended the last line: a `\n` right after it belongs to the same line break.
    private var afterCarriageReturn = false

    public init() {}

    /// The messages completed by `bytes`, in order.
    public mutating func read(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var messages: [ServerSentEvent] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") && afterCarriageReturn {
                afterCarriageReturn = false
                continue
            }
            afterCarriageReturn = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let message = endLine() { messages.append(message) }
            } else {
                line.append(byte)
            }
        }
        return messages
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            // A blank line ends the message; one without data is dropped, as the format says.
            defer { (event, id, data) = (nil, nil, []) }
            return data.isEmpty ? nil : ServerSentEvent(event: event, id: id, data: data.joined(separator: "\n"))
        }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            (field, value) = (text[...], "")
        }
        switch field {
        case "event": event = String(value)
        case "id": id = String(value)
        case "data": data.append(String(value))
        default: break  // "retry" and unknown fields: e2h reconnects on its own schedule
        }
        return nil
    }
}
