import Foundation

/// numpy's matmul (OpenBLAS), timed by `scripts/gemm-reference.py --serve` in a subprocess that stays
/// up for the whole benchmark, so numpy and the engine can be timed shape by shape, back to back.
final class GEMMReference {
    struct Shape: Hashable {
        var m: Int
        var n: Int
        var k: Int
        /// A is stored K x M and used transposed (a weight gradient's shape).
        var transposedA: Bool

        var argument: String { "\(m)x\(n)x\(k)" + (transposedA ? ":t" : "") }
        var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered = Data()

    /// Starts numpy with `threads` OpenBLAS threads.
    init(threads: Int) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/gemm-reference.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--serve"]
        var environment = ProcessInfo.processInfo.environment
        // Some machines pin OpenBLAS to a core type or cache size that slows it down; the reference
        // should be numpy at its best, so those settings are dropped for this subprocess only.
        environment["OPENBLAS_CORETYPE"] = nil
        environment["OPENBLAS_L2_SIZE"] = nil
        environment["OPENBLAS_NUM_THREADS"] = String(threads)
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Median seconds per product.
    func seconds(_ shape: Shape, repetitions: Int) throws -> Double {
        input.fileHandleForWriting.write(Data("\(repetitions) \(shape.argument)\n".utf8))
        while !buffered.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw BenchFailure("scripts/gemm-reference.py stopped; it needs python3 with numpy")
            }
            buffered.append(chunk)
        }
        let newline = buffered.firstIndex(of: UInt8(ascii: "\n"))!
        let line = buffered[buffered.startIndex..<newline]
        buffered = Data(buffered[(newline + 1)...])
        guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any],
            let seconds = object["seconds"] as? Double
        else {
            throw BenchFailure("unexpected output from gemm-reference.py: \(String(decoding: line, as: UTF8.self))")
        }
        return seconds
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
