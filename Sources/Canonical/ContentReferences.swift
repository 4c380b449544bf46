import Foundation

/// How records and blobs name content: by its SHA-256 in hex (`ContentHash`), anywhere in a JSON document. Events name
/// blobs so, and JSON blobs (stage outputs, sample sets) name further blobs (checkpoints). Retention, the export (which
/// blobs travel with a run) and the import's check (which blobs a bundle may carry) all read references here, so a
/// stage that comes to name a new blob is covered by each without a change.
public enum ContentReferences {
    /// Strings shaped like SHA-256 hex digests, anywhere in a JSON document, in document order (an object's keys
    /// sorted); none in bytes that are not JSON.
    public static func named(in json: Data) -> [String] {
        guard let document = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) else {
            return []
        }
        var found: [String] = []
        func walk(_ value: Any) {
            switch value {
            case let text as String:
                if ContentHash.isSHA256Hex(text) { found.append(text) }
            case let array as [Any]:
                array.forEach(walk)
            case let object as [String: Any]:
                // Sorted keys: the order of what is found must not depend on a dictionary's.
                for key in object.keys.sorted() { walk(object[key]!) }
            default:
                break
            }
        }
        walk(document)
        return found
    }

    /// Whether a blob that starts with this byte is JSON (an object or an array), and so may name others: only those
    /// are read for references, never a checkpoint's bytes.
    public static func mayName(firstByte: UInt8?) -> Bool {
        firstByte == UInt8(ascii: "{") || firstByte == UInt8(ascii: "[")
    }
}
