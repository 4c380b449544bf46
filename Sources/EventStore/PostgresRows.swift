import Foundation

/// The rows a statement returned, copied out of libpq (results always arrive in binary form).
/// Accessors take a row index and a column name; they return nil for SQL NULL and throw
/// `.invalidArgument` for an unknown column or a type they cannot convert.
public struct PostgresRows: Sendable {
    public let columnNames: [String]
    let columnTypes: [UInt32]
    /// Row-major cells; nil is SQL NULL.
    let cells: [Data?]
    public let count: Int
    /// The number of rows an INSERT/UPDATE/DELETE touched (0 for other statements).
    public let affectedRows: Int

    init(columnNames: [String], columnTypes: [UInt32], cells: [Data?], count: Int, affectedRows: Int) {
        self.columnNames = columnNames
        self.columnTypes = columnTypes
        self.cells = cells
        self.count = count
        self.affectedRows = affectedRows
    }

    public var isEmpty: Bool { count == 0 }

    public func string(_ row: Int, _ column: String) throws -> String? {
        try decode(row, column) { type, data in
            switch type {
            case PostgresType.text, PostgresType.varchar, PostgresType.name, PostgresType.bpchar,
                PostgresType.char, PostgresType.json:
                return String(decoding: data, as: UTF8.self)
            case PostgresType.jsonb:
                return String(decoding: data.dropFirst(), as: UTF8.self)
            case PostgresType.uuid:
                return BinaryDecoding.uuid(data).map { $0.uuidString.lowercased() }
            case PostgresType.numeric:
                return BinaryDecoding.numeric(data)
            case PostgresType.bool:
                return data.first.map { $0 != 0 ? "true" : "false" }
            default:
                if let x = BinaryDecoding.integer(type, data) { return String(x) }
                if let x = BinaryDecoding.floatingPoint(type, data) { return String(x) }
                return nil
            }
        }
    }

    public func int64(_ row: Int, _ column: String) throws -> Int64? {
        try decode(row, column) { type, data in
            if let x = BinaryDecoding.integer(type, data) { return x }
            if type == PostgresType.numeric, let text = BinaryDecoding.numeric(data) { return Int64(text) }
            return nil
        }
    }

    public func int(_ row: Int, _ column: String) throws -> Int? {
        try int64(row, column).map { Int($0) }
    }

    public func double(_ row: Int, _ column: String) throws -> Double? {
        try decode(row, column) { type, data in
            if let x = BinaryDecoding.floatingPoint(type, data) { return x }
            if let x = BinaryDecoding.integer(type, data) { return Double(x) }
            if type == PostgresType.numeric, let text = BinaryDecoding.numeric(data) { return Double(text) }
            return nil
        }
    }

    public func bool(_ row: Int, _ column: String) throws -> Bool? {
        try decode(row, column) { type, data in
            type == PostgresType.bool && data.count == 1 ? data.first! != 0 : nil
        }
    }

    /// The raw bytes: bytea content, or the text of text and json columns.
    public func bytes(_ row: Int, _ column: String) throws -> Data? {
        try decode(row, column) { type, data in
            type == PostgresType.jsonb ? Data(data.dropFirst()) : data
        }
    }

    public func uuid(_ row: Int, _ column: String) throws -> UUID? {
        try decode(row, column) { type, data in
            type == PostgresType.uuid ? BinaryDecoding.uuid(data) : nil
        }
    }

    public func date(_ row: Int, _ column: String) throws -> Date? {
        try decode(row, column) { type, data in BinaryDecoding.date(type, data) }
    }

    func column(_ name: String) throws -> Int {
        guard let index = columnNames.firstIndex(of: name) else {
            throw EventStoreError(
                code: .invalidArgument,
                message: "no column '\(name)' in the result (columns: \(columnNames.joined(separator: ", ")))")
        }
        return index
    }

    private func decode<T>(_ row: Int, _ name: String, _ convert: (UInt32, Data) -> T?) throws -> T? {
        let index = try column(name)
        guard row >= 0, row < count else {
            throw EventStoreError(code: .invalidArgument, message: "row \(row) is out of range (0..<\(count))")
        }
        guard let data = cells[row * columnNames.count + index] else { return nil }
        guard let value = convert(columnTypes[index], data) else {
            throw EventStoreError(
                code: .invalidArgument,
                message: "column '\(name)' (type oid \(columnTypes[index])) cannot be read as \(T.self)")
        }
        return value
    }
}

/// Decoders for PostgreSQL's binary output formats.
enum BinaryDecoding {
    /// Microseconds from the Unix epoch to PostgreSQL's epoch, 2000-01-01 00:00:00 UTC.
    static let postgresEpochOffset: Int64 = 946_684_800_000_000

    static func bigEndian<T: FixedWidthInteger>(_ data: Data, as: T.Type, at offset: Int = 0) -> T? {
        let size = MemoryLayout<T>.size
        guard data.count >= offset + size else { return nil }
        var value: T = 0
        let start = data.startIndex + offset
        for byte in data[start..<start + size] { value = value << 8 | T(truncatingIfNeeded: byte) }
        return value
    }

    static func integer(_ type: UInt32, _ data: Data) -> Int64? {
        switch type {
        case PostgresType.int8: bigEndian(data, as: Int64.self)
        case PostgresType.int4: bigEndian(data, as: Int32.self).map(Int64.init)
        case PostgresType.int2: bigEndian(data, as: Int16.self).map(Int64.init)
        case PostgresType.oid: bigEndian(data, as: UInt32.self).map(Int64.init)
        default: nil
        }
    }

    static func floatingPoint(_ type: UInt32, _ data: Data) -> Double? {
        switch type {
        case PostgresType.float8: bigEndian(data, as: UInt64.self).map { Double(bitPattern: $0) }
        case PostgresType.float4: bigEndian(data, as: UInt32.self).map { Double(Float(bitPattern: $0)) }
        default: nil
        }
    }

    static func uuid(_ data: Data) -> UUID? {
        guard data.count == 16 else { return nil }
        let b = [UInt8](data)
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }

    static func date(_ type: UInt32, _ data: Data) -> Date? {
        let micros: Int64
        switch type {
        case PostgresType.timestamp, PostgresType.timestamptz:
            guard let x = bigEndian(data, as: Int64.self) else { return nil }
            if x == .max { return .distantFuture }
            if x == .min { return .distantPast }
            micros = x
        case PostgresType.date:
            guard let days = bigEndian(data, as: Int32.self) else { return nil }
            if days == .max { return .distantFuture }
            if days == .min { return .distantPast }
            micros = Int64(days) * 86_400_000_000
        default:
            return nil
        }
        return Date(timeIntervalSince1970: Double(micros + postgresEpochOffset) / 1_000_000)
    }

    /// numeric's binary form: digit count, weight (of the first base-10000 digit), sign, display
    /// scale, then the base-10000 digits. Rendered as decimal text.
    static func numeric(_ data: Data) -> String? {
        guard let count = bigEndian(data, as: Int16.self, at: 0),
            let weight = bigEndian(data, as: Int16.self, at: 2),
            let sign = bigEndian(data, as: UInt16.self, at: 4),
            let scale = bigEndian(data, as: Int16.self, at: 6)
        else { return nil }
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        var digits: [Int] = []
        for i in 0..<Int(count) {
            guard let d = bigEndian(data, as: Int16.self, at: 8 + 2 * i) else { return nil }
            digits.append(Int(d))
        }
        func digit(_ i: Int) -> Int { i >= 0 && i < digits.count ? digits[i] : 0 }
        func padded(_ d: Int) -> String {
            let s = String(d)
            return String(repeating: "0", count: 4 - s.count) + s
        }
        var text = sign == 0x4000 ? "-" : ""
        if weight < 0 {
            text += "0"
        } else {
            text += String(digit(0))
            for i in stride(from: 1, through: Int(weight), by: 1) { text += padded(digit(i)) }
        }
        if scale > 0 {
            var fraction = ""
            let groups = (Int(scale) + 3) / 4
            for g in 1...groups { fraction += padded(digit(Int(weight) + g)) }
            text += "." + fraction.prefix(Int(scale))
        }
        return text
    }
}
