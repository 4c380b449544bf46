import Randomness
import Testing

@testable import NeuralEngine

/// Scoring through a batch's prefix tree must give the batched forward pass's outputs bit for bit: which way
/// `score` takes is a matter of time only.
@Suite struct PrefixTreeScoringTests {
    /// `rows` sequences of `length` tokens that branch like a question's samples: a shared prompt, then
    /// each row copies a random earlier row up to a random position and goes on with its own tokens (some
    /// rows repeat an earlier one whole).
    static func branchingRows(rows: Int, length: Int, vocabulary: Int, seed: UInt64) -> [[Int32]] {
        var random = RandomGenerator(seed: seed, stream: 77)
        let prompt = (0..<3).map { _ in Int32(random.nextInt(below: vocabulary)) }
        var result: [[Int32]] = []
        for _ in 0..<rows {
            var row = prompt
            if !result.isEmpty {
                let source = result[random.nextInt(below: result.count)]
                row = Array(source.prefix(3 + random.nextInt(below: length - 2)))
            }
            while row.count < length { row.append(Int32(random.nextInt(below: vocabulary))) }
            result.append(row)
        }
        return result
    }

    @Test(arguments: [
        (ModelHead.languageModel, 32, 4, 1), (.scalar, 32, 4, 2), (.both, 32, 2, 2), (.both, 128, 4, 1),
        (.both, 24, 3, 2),
    ])
    func theTreeGivesTheBatchedPassBitForBit(head: ModelHead, width: Int, heads: Int, threads: Int) {
        let config = Fixtures.config(head, vocabulary: 13, context: 24, layers: 2, width: width, heads: heads)
        let model = Transformer(config: config, seed: 21)
        let length = 20
        // 150 rows: with 2 threads, two pieces, each a tree of its own.
        let rows = Self.branchingRows(rows: 150, length: length, vocabulary: 13, seed: UInt64(width + heads))
        let tokens = rows.flatMap { $0 }
        let tree = PrefixTree(tokens: tokens, rows: rows.count, length: length)
        #expect(tree.nodes < tokens.count / 2, "the fixture should branch like a pool: \(tree.nodes) nodes")
        let pool = ComputePool(threads: threads)
        let batched = model.score(
            tokens: tokens, batchSize: rows.count, length: length, pool: pool, route: .batchedForward)
        let byTree = model.score(tokens: tokens, batchSize: rows.count, length: length, pool: pool, route: .prefixTree)
        #expect(Self.differences(byTree.nextTokenLogProb, batched.nextTokenLogProb) == 0)
        #expect(Self.differences(byTree.scalar, batched.scalar) == 0)
        #expect(batched.nextTokenLogProb.count == (head.hasLanguageModel ? tokens.count : 0))
        #expect(batched.scalar.count == (head.hasScalar ? tokens.count : 0))
        // The public entry chooses the tree for this batch, with the same outputs.
        let chosen = model.score(tokens: tokens, batchSize: rows.count, length: length, pool: pool)
        #expect(Self.differences(chosen.nextTokenLogProb, batched.nextTokenLogProb) == 0)
        #expect(Self.differences(chosen.scalar, batched.scalar) == 0)
    }

    /// Positions whose bits differ (or all of them when the lengths do): a short failure message.
    static func differences(_ a: [Float], _ b: [Float]) -> Int {
        a.count == b.count ? zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count : max(a.count, b.count)
    }

    @Test func theTreeCountsEachDistinctPrefixOnce() {
        let tokens: [Int32] = [
            1, 2, 3, 4,
            1, 2, 5, 6,
            1, 2, 3, 4,
            7, 2, 3, 4,
        ]
        let tree = PrefixTree(tokens: tokens, rows: 4, length: 4)
        // 1-2-3-4, its repeat, 1-2-5-6 branching after two tokens, and 7-2-3-4 alone: 4 + 0 + 2 + 4 nodes.
        #expect(tree.order == [0, 2, 1, 3])
        #expect(tree.shared == [0, 4, 2, 0])
        #expect(tree.nodes == 10)
        #expect(tree.pieces(3) == [0..<1, 1..<2, 2..<4])
    }

    @Test func rowsWithoutSharedPrefixesKeepTheBatchedPass() {
        // Random rows share little beyond their first token, so the tree would save nothing.
        var random = RandomGenerator(seed: 4, stream: 0)
        let tokens = (0..<(64 * 20)).map { _ in Int32(random.nextInt(below: 13)) }
        let tree = PrefixTree(tokens: tokens, rows: 64, length: 20)
        #expect(Double(tree.nodes) > Transformer.prefixTreeShare * Double(tokens.count))
    }
}
