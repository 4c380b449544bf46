import Foundation
import Randomness
import Testing

@testable import NeuralEngine

@Suite struct SamplingTests {
    static let config = Fixtures.config(.languageModel, vocabulary: 13, context: 24, layers: 2, width: 32, heads: 4)

    static func templates() -> [[Int32]] {
        (0..<9).map { row in
            var template: [Int32] = [Int32(row % 13), 5, Int32((row * 7) % 13)]
            template += (0..<(8 + row)).map { i in i % 4 == 3 ? 2 : -1 }  // forced `2` every fourth position
            return template
        }
    }

    /// Head sizes 8, 16 and 32, widths 32 and 128: the cached path combines heads differently when the
    /// head size is a whole number of vectors and the width a multiple of 128, and every form must agree
    /// with the uncached forward pass.
    @Test(arguments: [(32, 4), (32, 2), (128, 4)])
    func cacheReproducesTheUncachedForwardExactly(shape: (width: Int, heads: Int)) {
        var config = Self.config
        config.width = shape.width
        config.heads = shape.heads
        let model = Transformer(config: config, seed: 9)
        let streams = (0..<9).map { UInt64($0 * 3) }
        var cachedLogits: [String: [Float]] = [:]
        var uncachedLogits: [String: [Float]] = [:]
        let options = SamplingOptions(temperature: 1, topK: 6, stopTokens: [])
        let cached = model.generate(
            templates: Self.templates(), streams: streams, seed: 5, options: options, pool: ComputePool(threads: 2),
            cached: true
        ) { row, position, logits in cachedLogits["\(row):\(position)"] = Array(logits) }
        let uncached = model.generate(
            templates: Self.templates(), streams: streams, seed: 5, options: options, pool: ComputePool(threads: 2),
            cached: false
        ) { row, position, logits in uncachedLogits["\(row):\(position)"] = Array(logits) }
        #expect(cached == uncached)
        #expect(cachedLogits.count == uncachedLogits.count)
        for (key, logits) in cachedLogits {
            #expect(logits.map(\.bitPattern) == uncachedLogits[key]?.map(\.bitPattern), "logits at \(key)")
        }
    }

    /// 64 samples of one prompt share long prefixes, so the cached sampler runs each
    /// shared prefix once and copies keys and values where rows part; every logit must still be the uncached
    /// forward pass's, and every row's tokens its own draws.
    @Test(arguments: [1, 2])
    func rowsSharingPrefixesSampleAsIfAlone(threads: Int) {
        let model = Transformer(config: Self.config, seed: 4)
        // A forced stretch, then four free positions: the rows part late, after long shared prefixes.
        let template: [Int32] = [3, 5, 7] + (0..<14).map { Int32(2 + 2 * ($0 % 2)) } + [-1, -1, -1, -1, 2]
        let templates = [[Int32]](repeating: template, count: 64)
        let streams = (0..<64).map { UInt64($0) }
        let options = SamplingOptions(temperature: 0.3, topK: 2, stopTokens: [])
        var cachedLogits: [String: [Float]] = [:]
        var uncachedLogits: [String: [Float]] = [:]
        let cached = model.generate(
            templates: templates, streams: streams, seed: 8, options: options, pool: ComputePool(threads: threads),
            cached: true
        ) { row, position, logits in cachedLogits["\(row):\(position)"] = Array(logits) }
        let uncached = model.generate(
            templates: templates, streams: streams, seed: 8, options: options, pool: ComputePool(threads: threads),
            cached: false
        ) { row, position, logits in uncachedLogits["\(row):\(position)"] = Array(logits) }
        #expect(cached == uncached)
        // The fixture must share and part: several distinct rows, most of them with a long common prefix.
        #expect(Set(cached).count > 4 && Set(cached).count < 64, "\(Set(cached).count) distinct rows")
        let mismatched = cachedLogits.filter { key, logits in
            logits.map(\.bitPattern) != uncachedLogits[key]?.map(\.bitPattern)
        }
        #expect(cachedLogits.count == 64 * 21 && mismatched.isEmpty, "\(mismatched.count) rows' logits differ")
        // Without `observe`, rows go to the threads in groups, and the tokens are the same.
        let grouped = model.sample(
            templates: templates, streams: streams, seed: 8, options: options, pool: ComputePool(threads: threads))
        #expect(grouped == cached)
    }

    @Test func templatesAreHonouredAndStopTokensEndRows() {
        let model = Transformer(config: Self.config, seed: 9)
        let templates = Self.templates()
        let samples = model.sample(
            templates: templates, streams: Array(0..<9), seed: 1, options: SamplingOptions(temperature: 1.5),
            pool: ComputePool(threads: 2))
        for (template, sample) in zip(templates, samples) {
            #expect(sample.count == template.count)
            for (forced, token) in zip(template, sample) where forced >= 0 { #expect(token == forced) }
        }
        let stopped = model.sample(
            templates: templates, streams: Array(0..<9), seed: 1,
            options: SamplingOptions(temperature: 1.5, stopTokens: Array(0..<13)), pool: ComputePool(threads: 1))
        for (template, sample) in zip(templates, stopped) {
            // The first written position (3) is a stop token, whatever was drawn.
            #expect(sample.count == 4)
            #expect(Array(sample.prefix(3)) == Array(template.prefix(3)))
        }
    }

    @Test func rowsDependOnNeitherBatchNorThreads() {
        let model = Transformer(config: Self.config, seed: 3)
        let templates = Self.templates()
        let streams: [UInt64] = (0..<9).map { 1000 + UInt64($0) }
        let options = SamplingOptions(temperature: 1, topK: nil, stopTokens: [12])
        let all = model.sample(
            templates: templates, streams: streams, seed: 77, options: options, pool: ComputePool(threads: 2))
        let single = model.sample(
            templates: templates, streams: streams, seed: 77, options: options, pool: ComputePool(threads: 1))
        #expect(all == single)
        for row in [0, 4, 8] {
            let alone = model.sample(
                templates: [templates[row]], streams: [streams[row]], seed: 77, options: options,
                pool: ComputePool(threads: 2))
            #expect(alone[0] == all[row])
        }
        let greedy = SamplingOptions(temperature: 0)
        let g1 = model.sample(
            templates: templates, streams: streams, seed: 1, options: greedy, pool: ComputePool(threads: 1))
        let g2 = model.sample(
            templates: templates, streams: streams.map { $0 + 1 }, seed: 2, options: greedy,
            pool: ComputePool(threads: 2))
        #expect(g1 == g2, "greedy sampling draws nothing")
    }

    /// 40 rows run as row groups (one or more per thread), 520 rows as several groups per thread:
    /// the tokens are the same as one thread's, row for row.
    @Test(arguments: [40, 520])
    func rowGroupsMatchOneThread(rows: Int) {
        let model = Transformer(config: Self.config, seed: 8)
        let base = Self.templates()
        let templates = (0..<rows).map { base[$0 % base.count] }
        let streams = (0..<rows).map { UInt64($0) * 7 }
        let options = SamplingOptions(temperature: 1.2, topK: 8, stopTokens: [11])
        let one = model.sample(
            templates: templates, streams: streams, seed: 3, options: options, pool: ComputePool(threads: 1))
        for threads in [2, 3] {
            let many = model.sample(
                templates: templates, streams: streams, seed: 3, options: options, pool: ComputePool(threads: threads))
            #expect(many == one, "threads \(threads)")
        }
    }

    @Test func topOneIsGreedyAndTemperatureSpreadsTheDraws() {
        let model = Transformer(config: Self.config, seed: 6)
        let templates = Self.templates()
        let streams: [UInt64] = Array(0..<9)
        let greedy = model.sample(
            templates: templates, streams: streams, seed: 1, options: SamplingOptions(temperature: 0),
            pool: ComputePool(threads: 2))
        let topOne = model.sample(
            templates: templates, streams: streams, seed: 1, options: SamplingOptions(temperature: 5, topK: 1),
            pool: ComputePool(threads: 2))
        #expect(topOne == greedy)
        // An untrained model is close to uniform: hot, unrestricted draws use most of the vocabulary.
        let hot = model.sample(
            templates: templates, streams: streams, seed: 1, options: SamplingOptions(temperature: 5),
            pool: ComputePool(threads: 2))
        var written: [Int32] = []
        for (template, sample) in zip(templates, hot) {
            for (forced, token) in zip(template, sample) where forced < 0 { written.append(token) }
        }
        #expect(Set(written).count >= 10)
        let topThree = model.sample(
            templates: templates, streams: streams, seed: 1, options: SamplingOptions(temperature: 5, topK: 3),
            pool: ComputePool(threads: 2))
        #expect(topThree != hot)
    }

    @Test func topKKeepsTheLargestLogitsLowestIdsFirst() {
        let logits: [Float] = [1, 3, 3, 2, 3, -1]
        var random = RandomGenerator(seed: 4)
        var drawn = Set<Int32>()
        for _ in 0..<400 {
            drawn.insert(
                Transformer.choose(
                    logits, vocabulary: 6, options: SamplingOptions(temperature: 1, topK: 2), random: &random))
        }
        #expect(drawn == [1, 2])
        for _ in 0..<400 {
            drawn.insert(
                Transformer.choose(
                    logits, vocabulary: 6, options: SamplingOptions(temperature: 1, topK: 4), random: &random))
        }
        #expect(drawn == [1, 2, 3, 4])
        let greedy = Transformer.choose(
            logits, vocabulary: 6, options: SamplingOptions(temperature: 0), random: &random)
        #expect(greedy == 1)
    }

    @Test func scoreMatchesSampledLogits() {
        let model = Transformer(config: Self.config, seed: 4)
        let template: [Int32] = [1, 2, 3] + [Int32](repeating: -1, count: 9)
        var logits: [Int: [Float]] = [:]
        let sample = model.generate(
            templates: [template], streams: [0], seed: 3, options: SamplingOptions(temperature: 1),
            pool: ComputePool(threads: 1),
            cached: true
        ) { _, position, l in logits[position] = Array(l) }[0]
        let scored = model.score(tokens: sample, batchSize: 1, length: sample.count, pool: ComputePool(threads: 2))
        for position in 3..<sample.count {
            let row = logits[position]!
            let maximum = row.max()!
            let logSum = Double(maximum) + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1 - maximum)) })
            let expected = Double(row[Int(sample[position])]) - logSum
            #expect(abs(Double(scored.nextTokenLogProb[position - 1]) - expected) < 1e-5)
        }
    }
}
