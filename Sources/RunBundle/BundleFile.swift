import Canonical
import Foundation

/// A bundle on disk (an import spooled to a file), read entry by entry: an index of names and offsets, then each
/// entry read whole (the small ones, one blob), as lines, or hashed in pieces. Nothing reads the whole file into
/// memory. The entries may come in any order and with `./` before their names (as `tar -C dir -cf b.tar .` makes
/// them), so a bundle unpacked and packed again by hand still imports.
public final class BundleFile {
    public struct Entry: Sendable, Equatable {
        public var offset: UInt64
        public var size: Int64
    }

    public let path: String
    private let handle: FileHandle
    /// Entry names in the order found; looked up through `entries`.
    public private(set) var names: [String] = []
    private var entries: [String: Entry] = [:]

    public static let pieceSize = 1 << 20

    public init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BundleError(.unwritable, "cannot open the spooled bundle \(path)")
        }
        self.handle = handle
        try index()
    }

    deinit { try? handle.close() }

    private func index() throws {
        let length = try handle.seekToEnd()
        var offset: UInt64 = 0
        while true {
            try handle.seek(toOffset: offset)
            let block = try handle.read(upToCount: Tar.blockSize) ?? Data()
            guard let header = try Tar.parse(block) else { break }
            let start = offset + UInt64(Tar.blockSize)
            offset = start + UInt64(header.size) + UInt64(Tar.padding(after: header.size).count)
            // A pax header carries metadata (times, long names) that a bundle's short names do not need.
            guard header.kind == .file else { continue }
            var name = header.name
            while name.hasPrefix("./") { name.removeFirst(2) }
            guard entries[name] == nil else {
                throw BundleError(.malformed, "the bundle holds \(name.debugDescription) twice: it was altered")
            }
            guard start + UInt64(header.size) <= length else {
                throw BundleError(.malformed, "the bundle ends inside \(name.debugDescription): it was cut short")
            }
            entries[name] = Entry(offset: start, size: header.size)
            names.append(name)
        }
    }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    public func size(of name: String) -> Int64? { entries[name]?.size }

    /// A whole entry, refused above `limit` bytes (a manifest, a receipt, one blob).
    public func data(_ name: String, limit: Int64) throws -> Data {
        let entry = try require(name)
        guard entry.size <= limit else {
            throw BundleError(.malformed, "\(name) in the bundle is \(entry.size) bytes, more than \(limit)")
        }
        try handle.seek(toOffset: entry.offset)
        let data = try handle.read(upToCount: Int(entry.size)) ?? Data()
        guard data.count == entry.size else {
            throw BundleError(.malformed, "the bundle ends inside \(name.debugDescription): it was cut short")
        }
        return data
    }

    /// An entry's first byte (nil when it is empty), read alone: what tells a JSON blob from a checkpoint.
    public func firstByte(of name: String) throws -> UInt8? {
        let entry = try require(name)
        guard entry.size > 0 else { return nil }
        try handle.seek(toOffset: entry.offset)
        return try handle.read(upToCount: 1)?.first
    }

    /// Hands `body` each line of an entry (without its newline), reading a piece at a time; a line longer than
    /// `maximumLine` is refused.
    public func lines(_ name: String, maximumLine: Int = 256 << 20, _ body: (Data) throws -> Void) throws {
        var pending = Data()
        try pieces(name) { piece in
            pending.append(piece)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try body(pending[start..<newline])
                start = pending.index(after: newline)
            }
            pending = Data(pending[start...])
            guard pending.count <= maximumLine else {
                throw BundleError(.malformed, "\(name) in the bundle has a line longer than \(maximumLine) bytes")
            }
        }
        if !pending.isEmpty { try body(pending) }
    }

    /// The lowercase hex SHA-256 of an entry, read a piece at a time.
    public func sha256(_ name: String) throws -> String {
        var hasher = ContentHash.Incremental()
        try pieces(name) { hasher.update($0) }
        return hasher.hex()
    }

    private func pieces(_ name: String, _ body: (Data) throws -> Void) throws {
        let entry = try require(name)
        try handle.seek(toOffset: entry.offset)
        var left = entry.size
        while left > 0 {
            let piece = try handle.read(upToCount: Int(min(Int64(Self.pieceSize), left))) ?? Data()
            guard !piece.isEmpty else {
                throw BundleError(.malformed, "the bundle ends inside \(name.debugDescription): it was cut short")
            }
            left -= Int64(piece.count)
            try body(piece)
        }
    }

    private func require(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw BundleError(.malformed, "the bundle has no \(name): it was not made by e2h export, or was altered")
        }
        return entry
    }
}
