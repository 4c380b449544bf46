import Foundation
import Hummingbird
import RunBundle

/// Where a bundle's bytes go: an HTTP response, a file.
protocol BundleSink {
    mutating func write(_ data: Data) async throws
}

/// A streamed HTTP response body. Hummingbird's writer waits while the client is behind, so the daemon holds at
/// most what it is writing now.
struct ResponseSink: BundleSink {
    var writer: any ResponseBodyWriter

    mutating func write(_ data: Data) async throws {
        try await writer.write(ByteBuffer(bytes: data))
    }
}

/// A file, written as the bytes come.
struct FileSink: BundleSink {
    let handle: FileHandle

    mutating func write(_ data: Data) async throws {
        try handle.write(contentsOf: data)
    }
}

/// Writes tar entries into a sink, one at a time, checking that each entry gets exactly the bytes its header
/// announced: a source that changed between measuring and writing fails the export instead of corrupting it.
struct TarStream<Sink: BundleSink> {
    var sink: Sink
    let modified: Int64

    mutating func entry(_ name: String, _ data: Data) async throws {
        try await sink.write(try Tar.header(name: name, size: Int64(data.count), modified: modified))
        try await sink.write(data)
        try await sink.write(Tar.padding(after: Int64(data.count)))
    }

    /// An entry of `size` bytes that `produce` hands over in pieces (it is called once).
    mutating func entry(
        _ name: String, size: Int64, _ produce: (_ emit: (Data) async throws -> Void) async throws -> Void
    ) async throws {
        try await sink.write(try Tar.header(name: name, size: size, modified: modified))
        var written: Int64 = 0
        var sink = self.sink
        try await produce { piece in
            written += Int64(piece.count)
            guard written <= size else { return }
            try await sink.write(piece)
        }
        self.sink = sink
        guard written == size else {
            throw DaemonError(
                .conflict,
                "\(name) changed while it was exported (\(written) bytes instead of \(size)); export the run again")
        }
        try await sink.write(Tar.padding(after: size))
    }

    /// An entry made of lines that `produce` can make twice: once to measure, once to write. Nothing is held
    /// beyond one line.
    mutating func lines(
        _ name: String, _ produce: (_ emit: (Data) async throws -> Void) async throws -> Void
    ) async throws {
        var size: Int64 = 0
        try await produce { size += Int64($0.count) }
        try await entry(name, size: size, produce)
    }

    mutating func finish() async throws {
        try await sink.write(Tar.end)
    }
}
