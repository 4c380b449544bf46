import Foundation

/// The POSIX ustar format, as much of it as a run bundle needs: regular files whose names fit the 100-byte name
/// field (the longest, `blobs/<64 hex>.safetensors`, takes 82). Written here rather than taken from a library
/// because it is this small, and pure so that every header it writes or refuses is tested without I/O. Any `tar`
/// lists and extracts what it writes; it reads back its own output and what GNU or BSD tar write in ustar or pax
/// form for such files (directory entries and pax extended headers are skipped, everything else is refused).
public enum Tar {
    public static let blockSize = 512
    /// Two zero blocks end an archive.
    public static let end = Data(count: 2 * blockSize)
    /// 11 octal digits: the size field's limit.
    public static let maximumSize: Int64 = 0o777_7777_7777

    public enum Kind: Equatable, Sendable {
        case file
        case directory
        /// A pax extended header (`x`, `g`): metadata for the next entry, which a bundle does not need.
        case extendedHeader
    }

    public struct Header: Equatable, Sendable {
        public var name: String
        public var size: Int64
        public var kind: Kind
    }

    /// The 512-byte header of a regular file, mode 0644, owned by uid and gid 0; `modified` is seconds since 1970.
    public static func header(name: String, size: Int64, modified: Int64) throws -> Data {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 100 else {
            throw BundleError(.unwritable, "tar entry name \(name.debugDescription) does not fit ustar's 100 bytes")
        }
        guard (0...maximumSize).contains(size) else {
            throw BundleError(.unwritable, "tar entry \(name) has \(size) bytes, more than ustar can describe")
        }
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, digits: Int) -> [UInt8] {
            let text = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, digits - text.count)) + text).utf8)
        }
        put(nameBytes, at: 0)
        put(octal(0o644, digits: 7), at: 100)
        put(octal(0, digits: 7), at: 108)
        put(octal(0, digits: 7), at: 116)
        put(octal(size, digits: 11), at: 124)
        put(octal(max(0, min(modified, maximumSize)), digits: 11), at: 136)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        block[156] = UInt8(ascii: "0")
        put(Array("ustar\0".utf8), at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("e2h".utf8), at: 265)
        put(Array("e2h".utf8), at: 297)
        let checksum = block.reduce(0) { $0 + Int64($1) }
        put(octal(checksum, digits: 6) + [0, UInt8(ascii: " ")], at: 148)
        return Data(block)
    }

    /// The zero bytes that fill an entry of `size` bytes up to the next block.
    public static func padding(after size: Int64) -> Data {
        let remainder = Int(size % Int64(blockSize))
        return Data(count: remainder == 0 ? 0 : blockSize - remainder)
    }

    /// The header in `block`, or nil for a zero block (the end of the archive). Refuses what a bundle never holds.
    public static func parse(_ block: Data) throws -> Header? {
        let bytes = [UInt8](block)
        guard bytes.count == blockSize else {
            throw BundleError(.malformed, "the bundle ends inside a tar header: it was cut short")
        }
        if bytes.allSatisfy({ $0 == 0 }) { return nil }
        guard bytes[257..<262].elementsEqual("ustar".utf8) else {
            throw BundleError(.malformed, "the bundle is not a ustar archive (no ustar magic in a header)")
        }
        var summed = bytes
        for index in 148..<156 { summed[index] = UInt8(ascii: " ") }
        guard let stored = octal(bytes[148..<156]), stored == summed.reduce(0, { $0 + Int64($1) }) else {
            throw BundleError(.malformed, "a tar header's checksum does not match: the bundle was damaged")
        }
        let name = text(bytes[0..<100])
        let prefix = text(bytes[345..<500])
        let full = prefix.isEmpty ? name : prefix + "/" + name
        guard let size = octal(bytes[124..<136]) else {
            throw BundleError(.malformed, "tar entry \(full.debugDescription) has an unreadable size")
        }
        let kind: Kind
        switch bytes[156] {
        case 0, UInt8(ascii: "0"): kind = .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "x"), UInt8(ascii: "g"): kind = .extendedHeader
        default:
            throw BundleError(
                .malformed,
                "tar entry \(full.debugDescription) is neither a file nor a directory (type "
                    + "\(Character(Unicode.Scalar(bytes[156])).debugDescription)); a bundle holds only files")
        }
        return Header(name: full, size: size, kind: kind)
    }

    /// A NUL- or space-terminated octal field; nil when it holds anything else (GNU's base-256 sizes included).
    private static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if digits > 0 { break }
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), digits < 12 else { return nil }
            value = value * 8 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
