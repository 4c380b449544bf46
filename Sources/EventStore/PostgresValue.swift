import Foundation

/// A statement parameter. Values always travel as parameters, never inside SQL text.
///
/// `.text` is sent untyped (like a quoted literal), so the server infers its type from the
/// context (`WHERE id = $1` works for a uuid or an integer column); where the context is
/// ambiguous (`SELECT $1`), cast in SQL (`$1::text`). The other cases are sent typed.
public enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytes(Data)
    case uuid(UUID)
    /// JSON text, stored verbatim by a `json` column.
    case json(Data)
    case textArray([String])
    case int64Array([Int64])
    case doubleArray([Double])
    case uuidArray([UUID])
    case jsonArray([Data])
    case bytesArray([Data])
}

/// Type OIDs from PostgreSQL's `pg_type.dat`; they are fixed across server versions.
enum PostgresType {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let char: UInt32 = 18
    static let name: UInt32 = 19
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let oid: UInt32 = 26
    static let json: UInt32 = 114
    static let jsonArray: UInt32 = 199
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let byteaArray: UInt32 = 1001
    static let textArray: UInt32 = 1009
    static let int8Array: UInt32 = 1016
    static let float8Array: UInt32 = 1022
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let date: UInt32 = 1082
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let numeric: UInt32 = 1700
    static let uuid: UInt32 = 2950
    static let uuidArray: UInt32 = 2951
    static let jsonb: UInt32 = 3802
}

/// A parameter in libpq's wire form: its type OID (0 lets the server infer it), its format
/// (0 text, 1 binary) and its bytes (nil for NULL; text-format values are NUL-terminated). A `bytea` or `json`
/// value keeps the caller's `Data` as it is: libpq reads it in place (a blob of a gigabyte is not copied twice more).
struct EncodedParameter {
    var type: UInt32
    var format: Int32
    var bytes: Data?

    init(_ value: PostgresValue) throws {
        switch value {
        case .null:
            self.init(type: 0, format: 0, bytes: nil)
        case .text(let string):
            self.init(type: 0, format: 0, bytes: try Self.cString(string))
        case .int(let x):
            self.init(type: PostgresType.int8, format: 1, bytes: Self.bigEndian(x))
        case .double(let x):
            self.init(type: PostgresType.float8, format: 1, bytes: Self.bigEndian(x.bitPattern))
        case .bool(let x):
            self.init(type: PostgresType.bool, format: 1, bytes: Data([x ? 1 : 0]))
        case .bytes(let data):
            self.init(type: PostgresType.bytea, format: 1, bytes: data)
        case .uuid(let id):
            self.init(type: PostgresType.uuid, format: 1, bytes: Self.bytes(of: id))
        case .json(let data):
            // json's binary form is its text, so the bytes go through untouched.
            self.init(type: PostgresType.json, format: 1, bytes: data)
        case .textArray(let xs):
            self.init(array: xs.map { Data($0.utf8) }, element: PostgresType.text, type: PostgresType.textArray)
        case .int64Array(let xs):
            self.init(array: xs.map { Self.bigEndian($0) }, element: PostgresType.int8, type: PostgresType.int8Array)
        case .doubleArray(let xs):
            self.init(
                array: xs.map { Self.bigEndian($0.bitPattern) }, element: PostgresType.float8,
                type: PostgresType.float8Array)
        case .uuidArray(let xs):
            self.init(array: xs.map { Self.bytes(of: $0) }, element: PostgresType.uuid, type: PostgresType.uuidArray)
        case .jsonArray(let xs):
            self.init(array: xs, element: PostgresType.json, type: PostgresType.jsonArray)
        case .bytesArray(let xs):
            self.init(array: xs, element: PostgresType.bytea, type: PostgresType.byteaArray)
        }
    }

    init(type: UInt32, format: Int32, bytes: Data?) {
        self.type = type
        self.format = format
        self.bytes = bytes
    }

    /// PostgreSQL's binary array format: dimensions, flags, element type, then each element
    /// length-prefixed. One dimension, no NULL elements.
    private init(array elements: [Data], element: UInt32, type: UInt32) {
        var out = Data()
        out.reserveCapacity(20 + elements.reduce(0) { $0 + 4 + $1.count })
        out += Self.bigEndian(Int32(elements.isEmpty ? 0 : 1))
        out += Self.bigEndian(Int32(0))
        out += Self.bigEndian(element)
        if !elements.isEmpty {
            out += Self.bigEndian(Int32(elements.count))
            out += Self.bigEndian(Int32(1))
        }
        for e in elements {
            out += Self.bigEndian(Int32(e.count))
            out += e
        }
        self.init(type: type, format: 1, bytes: out)
    }

    static func bigEndian<T: FixedWidthInteger>(_ x: T) -> Data {
        withUnsafeBytes(of: x.bigEndian) { Data($0) }
    }

    static func bytes(of id: UUID) -> Data {
        withUnsafeBytes(of: id.uuid) { Data($0) }
    }

    private static func cString(_ s: String) throws -> Data {
        var utf8 = Data(s.utf8)
        if utf8.contains(0) {
            throw EventStoreError(code: .invalidArgument, message: "a text parameter contains a NUL byte")
        }
        utf8.append(0)
        return utf8
    }
}
