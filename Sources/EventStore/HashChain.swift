import Crypto
import Foundation

/// The per-stream hash chain: `hash = SHA-256(previous hash ‖ canonical encoding of the event)`,
/// the first event's previous hash being 32 zero bytes. The server computes it when appending
/// (`e2h_append` in migrations/0001, so an append needs no round trip to fetch the previous
/// hash); this is the independent recomputation `verify` uses — the two must agree byte for byte.
///
/// The canonical encoding covers every field a reader interprets, not only the payload, so an
/// edited type, version or metadata breaks the chain too: stream, version, id, type, schema
/// version, payload, metadata — strings and JSON as length-prefixed bytes (UInt32 big endian,
/// the JSON exactly as stored), integers as Int64 big endian, the id as its 16 bytes. The global
/// position and the time are left out: they are not the stream's content, and an exported
/// stream keeps its hashes when imported at other positions.
///
/// Public as the chain's definition: a reader of an exported bundle can recompute it without a database (the
/// tests forge bundles with it, as anyone can, which is why an import checks what a record means as well).
public enum HashChain {
    public static let genesis = Data(repeating: 0, count: 32)

    public static func hash(
        previous: Data, stream: String, version: Int64, id: UUID, type: String, schemaVersion: Int, payload: Data,
        metadata: Data
    ) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        func field(_ bytes: Data) {
            hasher.update(data: EncodedParameter.bigEndian(UInt32(bytes.count)))
            hasher.update(data: bytes)
        }
        field(Data(stream.utf8))
        hasher.update(data: EncodedParameter.bigEndian(version))
        hasher.update(data: EncodedParameter.bytes(of: id))
        field(Data(type.utf8))
        hasher.update(data: EncodedParameter.bigEndian(Int64(schemaVersion)))
        field(payload)
        field(metadata)
        return Data(hasher.finalize())
    }

    static func hash(previous: Data, event: RecordedEvent) -> Data {
        hash(
            previous: previous, stream: event.stream, version: event.version, id: event.id, type: event.type,
            schemaVersion: event.schemaVersion, payload: event.payload, metadata: event.metadata)
    }
}
