import Testing

@testable import NeuralEngine

/// The forward pass scores four query rows at once; each score must keep the one chain the single-row kernel (the
/// one cached sampling uses) computes, or a cached sampler would stop reproducing the forward pass.
@Suite struct AttentionTests {
    @Test(arguments: [(70, 4), (70, 8), (37, 2), (5, 2)])
    func fourRowScoresAreTheSingleRowKernelsBitForBit(shape: (length: Int, heads: Int)) {
        let shape = Attention.Shape(batch: 2, length: shape.length, width: 64, heads: shape.heads)
        let (T, C, hs) = (shape.length, shape.width, shape.headSize)
        let qkv = Fixtures.randomArray(shape.batch * T * 3 * C, seed: 21, scale: 2)
        var out = [Float](repeating: 0, count: shape.batch * T * C)
        var probabilities = [Float](repeating: .nan, count: shape.batch * shape.heads * T * T)
        Attention.forward(
            out: &out, probabilities: &probabilities, qkv: qkv, shape: shape, pool: ComputePool(threads: 2))
        var keys = [Float](repeating: 0, count: hs * shape.keyStride)
        var row = [Float](repeating: 0, count: T)
        var mismatches: [String] = []
        for b in 0..<shape.batch {
            for h in 0..<shape.heads {
                for t in 0..<T {
                    for i in 0..<hs { keys[i * shape.keyStride + t] = qkv[(b * T + t) * 3 * C + C + h * hs + i] }
                }
                for t in 0..<T {
                    qkv.withUnsafeBufferPointer { q in
                        Attention.probabilities(
                            query: q.baseAddress! + (b * T + t) * 3 * C + h * hs, transposedKeys: keys,
                            keyStride: shape.keyStride, count: t + 1, headSize: hs, into: &row)
                    }
                    let start = ((b * shape.heads + h) * T + t) * T
                    let recorded = probabilities[start..<(start + T)]
                    let expected =
                        row[0...t].map(\.bitPattern) + Array(repeating: Float(0).bitPattern, count: T - t - 1)
                    if recorded.map(\.bitPattern) != expected { mismatches.append("b\(b) h\(h) t\(t)") }
                }
            }
        }
        #expect(mismatches.isEmpty, "rows that differ: \(mismatches.prefix(8))")
    }
}
