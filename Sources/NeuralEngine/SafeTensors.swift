import Foundation

/// Reading and writing the safetensors format (an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw little-endian data), so weights
/// can be opened by other tools. Only F32 tensors are written or read.
enum SafeTensors {
    struct Entry {
        var name: String
        var shape: [Int]
        var values: UnsafeBufferPointer<Float>
    }

    /// The file's bytes. Keys are written in the order given and the JSON by hand, so the same
    /// tensors always give the same bytes (content addressing relies on it).
    /// A checksum of the data is added to the metadata as `e2h.checksum` and verified by `decode`.
    static func encode(_ entries: [Entry], metadata: [(String, String)]) -> Data {
        var body = Data(capacity: entries.reduce(0) { $0 + $1.values.count * 4 })
        for entry in entries {
            #if _endian(little)
            body.append(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(entry.values.baseAddress!).assumingMemoryBound(to: UInt8.self),
                    count: entry.values.count * 4))
            #else
            for value in entry.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) }
            }
            #endif
        }
        var header = "{\"__metadata__\":{"
        let fields = metadata + [(checksumKey, checksum(body))]
        header += fields.map { "\(quoted($0.0)):\(quoted($0.1))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for entry in entries {
            let bytes = entry.values.count * 4
            header +=
                ",\(quoted(entry.name)):{\"dtype\":\"F32\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],"
            header += "\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
        while (header.utf8.count % 8) != 0 { header += " " }
        var data = Data(capacity: 8 + header.utf8.count + body.count)
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(body)
        return data
    }

    struct File {
        var metadata: [String: String]
        var tensors: [String: (shape: [Int], range: Range<Int>)]
        /// The tensor data (everything after the header).
        var data: Data

        func values(_ name: String, shape: [Int]) throws -> [Float] {
            guard let tensor = tensors[name] else {
                throw EngineError(code: .tensorMismatch, message: "the file has no tensor '\(name)'")
            }
            guard tensor.shape == shape else {
                throw EngineError(
                    code: .tensorMismatch,
                    message: "tensor '\(name)' has shape \(tensor.shape), the model needs \(shape)")
            }
            let count = shape.reduce(1, *)
            guard tensor.range.count == count * 4 else {
                throw EngineError(
                    code: .malformedFile, message: "tensor '\(name)' has a byte range that does not match its shape")
            }
            return data.withUnsafeBytes { raw in
                (0..<count).map { i in
                    Float(
                        bitPattern: UInt32(
                            littleEndian: raw.loadUnaligned(
                                fromByteOffset: tensor.range.lowerBound + i * 4, as: UInt32.self)))
                }
            }
        }
    }

    static func decode(_ bytes: Data) throws -> File {
        let bytes = Data(bytes)  // rebase indices at 0
        guard bytes.count >= 8 else {
            throw EngineError(
                code: .truncatedFile, message: "the file is \(bytes.count) bytes, shorter than a safetensors header")
        }
        let headerLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= 100_000_000 else {
            throw EngineError(
                code: .malformedFile,
                message:
                    "the header length \(headerLength) is not plausible; the file is not safetensors or is corrupted")
        }
        guard 8 + Int(headerLength) <= bytes.count else {
            throw EngineError(
                code: .truncatedFile,
                message: "the file ends inside its header (\(bytes.count) bytes, header needs \(8 + headerLength))")
        }
        let headerBytes = bytes.subdata(in: 8..<(8 + Int(headerLength)))
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw EngineError(
                code: .malformedFile, message: "the safetensors header is not valid JSON; the file is corrupted",
                cause: error)
        }
        guard let header = object as? [String: Any] else {
            throw EngineError(code: .malformedFile, message: "the safetensors header is not a JSON object")
        }
        let data = bytes.subdata(in: (8 + Int(headerLength))..<bytes.count)
        var metadata: [String: String] = [:]
        var tensors: [String: (shape: [Int], range: Range<Int>)] = [:]
        var end = 0
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: String] else {
                    throw EngineError(code: .malformedFile, message: "__metadata__ must map strings to strings")
                }
                metadata = map
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
                offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1]
            else {
                throw EngineError(code: .malformedFile, message: "tensor '\(name)' has a malformed header entry")
            }
            guard dtype == "F32" else {
                throw EngineError(code: .tensorMismatch, message: "tensor '\(name)' is \(dtype); only F32 is supported")
            }
            tensors[name] = (shape, offsets[0]..<offsets[1])
            end = max(end, offsets[1])
        }
        guard end <= data.count else {
            throw EngineError(
                code: .truncatedFile,
                message: "the file is truncated: its tensors need \(end) data bytes, it has \(data.count)")
        }
        if let expected = metadata[checksumKey], expected != checksum(data) {
            throw EngineError(
                code: .checksumMismatch,
                message: "the tensor data does not match the checksum written with it; the file is corrupted")
        }
        return File(metadata: metadata, tensors: tensors, data: data)
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static let checksumKey = "e2h.checksum"

    /// FNV-1a over 64-bit words (then the tail bytes): cheap, and catches any flipped or lost byte.
    static func checksum(_ data: Data) -> String {
        data.withUnsafeBytes { raw in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            let words = raw.count / 8
            for w in 0..<words {
                hash =
                    (hash ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)))
                    &* 0x0000_0100_0000_01B3
            }
            for b in (words * 8)..<raw.count { hash = (hash ^ UInt64(raw[b])) &* 0x0000_0100_0000_01B3 }
            return String(hash, radix: 16)
        }
    }
}
