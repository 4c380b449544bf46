import Foundation

/// What a run or a group is annotated with: tags and notes, recorded in an annotation stream of its own
/// (hash-chained like every stream, but apart from the run's scientific stream, so `verify` and `replay` of the run
/// never see them).
public enum AnnotationEvent {
    /// A change of tags. `tags` is the whole set after the change, sorted, so the current tags are the last event's:
    /// one row for PostgreSQL to read when `runs --where tag:NAME` filters.
    public struct TagsChanged: Codable, Sendable, Equatable {
        public static let eventType = "TagsChanged"
        public var added: [String]
        public var removed: [String]
        public var tags: [String]

        public init(added: [String], removed: [String], tags: [String]) {
            self.added = added
            self.removed = removed
            self.tags = tags
        }
    }

    public struct NoteAdded: Codable, Sendable, Equatable {
        public static let eventType = "NoteAdded"
        public var text: String

        public init(text: String) { self.text = text }
    }
}

/// `POST /v1/runs/:id/annotations` (and a group's): tags to add and remove, and a note, each optional.
public struct AnnotateRequest: Codable, Sendable, Equatable {
    public var add: [String]
    public var remove: [String]
    public var note: String?

    public init(add: [String] = [], remove: [String] = [], note: String? = nil) {
        self.add = add
        self.remove = remove
        self.note = note
    }

    /// `e2h tag RUN +baseline -draft`: each argument `+name` or `-name`; a bare name adds.
    public init(tagArguments: [String]) throws(AnnotationError) {
        var add: [String] = []
        var remove: [String] = []
        for argument in tagArguments {
            if argument.hasPrefix("-") {
                remove.append(try Self.tag(String(argument.dropFirst())))
            } else {
                add.append(try Self.tag(argument.hasPrefix("+") ? String(argument.dropFirst()) : argument))
            }
        }
        guard !add.isEmpty || !remove.isEmpty else {
            throw AnnotationError("name a tag to add (+name) or remove (-name)")
        }
        self = try AnnotateRequest(add: add, remove: remove).validated()
    }

    /// Checks the request as the daemon receives it: valid tag names, none both added and removed, a note that is
    /// plain text (`note(_:)`), something to do.
    public func validated() throws(AnnotationError) -> AnnotateRequest {
        for tag in add + remove { _ = try Self.tag(tag) }
        if let both = add.first(where: remove.contains) {
            throw AnnotationError("tag '\(both)' is both added and removed")
        }
        if let note { _ = try Self.note(note) }
        guard !add.isEmpty || !remove.isEmpty || note != nil else {
            throw AnnotationError("nothing to annotate: add or remove a tag, or write a note")
        }
        return self
    }

    /// A note is 1 to 10,000 characters of plain text: no control characters but line breaks and tabs, and no
    /// bidirectional overrides or isolates. `e2h show` prints notes to other people's terminals, where an escape
    /// sequence would be obeyed and an override would show the text reversed.
    public static func note(_ text: String) throws(AnnotationError) -> String {
        guard !text.allSatisfy(\.isWhitespace), text.count <= 10_000 else {
            throw AnnotationError("a note has 1 to 10,000 characters, not only spaces")
        }
        if let control = text.unicodeScalars.first(where: {
            ($0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t")
                || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value)
        }) {
            throw AnnotationError(
                "a note is plain text: it holds the control character \(String(format: "U+%04X", control.value)); "
                    + "line breaks and tabs are its only ones")
        }
        return text
    }

    /// Tag names are what `runs --where tag:NAME` can spell: 1 to 64 of a-z, 0-9, `_`, `-`, `.`, starting with a
    /// letter or digit.
    public static func tag(_ text: String) throws(AnnotationError) -> String {
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || "_-.".unicodeScalars.contains(scalar)
        }
        guard allowed, (1...64).contains(text.count), let first = text.unicodeScalars.first,
            !"_-.".unicodeScalars.contains(first)
        else {
            throw AnnotationError(
                "'\(text)' is not a tag: use 1 to 64 lowercase letters, digits, '_', '-' or '.', starting with a "
                    + "letter or digit")
        }
        return text
    }
}

/// The tags (sorted) and notes (oldest first) of a run or a group.
public struct Annotations: Codable, Sendable, Equatable {
    public struct Note: Codable, Sendable, Equatable {
        public var text: String
        public var recordedAt: Date

        public init(text: String, recordedAt: Date) {
            self.text = text
            self.recordedAt = recordedAt
        }
    }

    public var tags: [String]
    public var notes: [Note]

    public init(tags: [String] = [], notes: [Note] = []) {
        self.tags = tags
        self.notes = notes
    }
}

/// A tag or note the user got wrong; the message says what to write instead.
public struct AnnotationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
