import Foundation

/// numpy's matmul (OpenBLAS) timed by `scripts/gemm-reference.py` in a subprocess, as the same-run
/// reference for the engine's GEMM.
enum GEMMReference {
    struct Shape: Hashable {
        var m: Int
        var n: Int
        var k: Int
        /// A is stored K x M and used transposed (a weight gradient's shape).
        var transposedA: Bool

        var argument: String { "\(m)x\(n)x\(k)" + (transposedA ? ":t" : "") }
        var label: String { "\(m)x\(n)x\(k)" + (transposedA ? " (Aᵀ·B)" : "") }
        var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// Seconds per product for each shape, in order: numpy at its best, i.e. the faster of one
    /// OpenBLAS thread and `threads` threads (on a busy machine OpenBLAS's threads can spin-wait on a
    /// core someone else holds, and one thread is then several times faster).
    static func seconds(for shapes: [Shape], threads: Int, repetitions: Int) throws -> [Double] {
        var best = try seconds(for: shapes, openBLASThreads: 1, repetitions: repetitions)
        if threads > 1 {
            let parallel = try seconds(for: shapes, openBLASThreads: threads, repetitions: repetitions)
            best = zip(best, parallel).map { min($0, $1) }
        }
        return best
    }

    private static func seconds(
        for shapes: [Shape], openBLASThreads threads: Int, repetitions: Int
    ) throws
        -> [Double]
    {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/gemm-reference.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, String(repetitions)] + shapes.map(\.argument)
        var environment = ProcessInfo.processInfo.environment
        // Some machines pin OpenBLAS to a core type or cache size that slows it down; the reference
        // should be numpy at its best, so those settings are dropped for this subprocess only.
        environment["OPENBLAS_CORETYPE"] = nil
        environment["OPENBLAS_L2_SIZE"] = nil
        environment["OPENBLAS_NUM_THREADS"] = String(threads)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchFailure(
                "scripts/gemm-reference.py failed (status \(process.terminationStatus)); it needs python3 with numpy")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let results = try lines.map { line -> Double in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let seconds = object["seconds"] as? Double
            else { throw BenchFailure("unexpected output from gemm-reference.py: \(line)") }
            return seconds
        }
        guard results.count == shapes.count else {
            throw BenchFailure("gemm-reference.py printed \(results.count) results for \(shapes.count) shapes")
        }
        return results
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
