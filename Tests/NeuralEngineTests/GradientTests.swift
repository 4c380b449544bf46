import Foundation
import Testing

@testable import NeuralEngine

/// Every layer's hand-written backward against central finite differences of L = Σ G ⊙ f(x) for a
/// random G (the loss is summed in Double; the layers run in Float, hence the tolerances).
@Suite struct GradientTests {
    let pool = ComputePool(threads: 2)

    /// Central differences of `loss` with respect to each of `indices` of `values`.
    static func numeric(_ values: inout [Float], indices: [Int], step h: Float, _ loss: ([Float]) -> Double) -> [Double]
    {
        indices.map { i in
            let saved = values[i]
            values[i] = saved + h
            let plus = loss(values)
            values[i] = saved - h
            let minus = loss(values)
            values[i] = saved
            return (plus - minus) / Double(2 * h)
        }
    }

    static func expectClose(
        _ analytic: [Float], _ numeric: [Double], indices: [Int], relative: Double = 1e-2, absolute: Double = 1e-3,
        _ what: String
    ) {
        for (n, i) in indices.enumerated() {
            let a = Double(analytic[i])
            #expect(
                abs(a - numeric[n]) <= relative * max(abs(a), abs(numeric[n])) + absolute,
                "\(what)[\(i)]: analytic \(a), numeric \(numeric[n])")
        }
    }

    static func weighted(_ out: [Float], _ g: [Float]) -> Double {
        zip(out, g).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test func layerNorm() {
        let (rows, c) = (3, 20)
        var x = Fixtures.randomArray(rows * c, seed: 1, scale: 2)
        var w = Fixtures.randomArray(c, seed: 2).map { $0 + 1 }
        var b = Fixtures.randomArray(c, seed: 3)
        let g = Fixtures.randomArray(rows * c, seed: 4)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> (out: [Float], mean: [Float], rstd: [Float]) {
            var out = [Float](repeating: 0, count: rows * c)
            var mean = [Float](repeating: 0, count: rows)
            var rstd = [Float](repeating: 0, count: rows)
            Layers.layerNorm(
                out: &out, mean: &mean, rstd: &rstd, input: x, weight: w, bias: b, rows: rows, width: c, pool: pool)
            return (out, mean, rstd)
        }
        let (_, mean, rstd) = forward(x, w, b)
        var dx = [Float](repeating: 0, count: rows * c)
        var dw = [Float](repeating: 0, count: c)
        var db = [Float](repeating: 0, count: c)
        var scratch = [Float](repeating: 0, count: rows * c)
        Layers.layerNormBackward(
            dinput: &dx, dweight: &dw, dbias: &db, dout: g, input: x, weight: w, mean: mean, rstd: rstd, rows: rows,
            width: c, scratch: &scratch, pool: pool)
        let all = Array(0..<(rows * c))
        Self.expectClose(
            dx, Self.numeric(&x, indices: all, step: 1e-2) { Self.weighted(forward($0, w, b).out, g) }, indices: all,
            "dx")
        let cols = Array(0..<c)
        Self.expectClose(
            dw, Self.numeric(&w, indices: cols, step: 1e-2) { Self.weighted(forward(x, $0, b).out, g) }, indices: cols,
            "dw")
        Self.expectClose(
            db, Self.numeric(&b, indices: cols, step: 1e-2) { Self.weighted(forward(x, w, $0).out, g) }, indices: cols,
            "db")
    }

    @Test func linear() {
        let (rows, k, n) = (5, 9, 7)
        var x = Fixtures.randomArray(rows * k, seed: 5)
        var w = Fixtures.randomArray(n * k, seed: 6)
        var b = Fixtures.randomArray(n, seed: 7)
        let g = Fixtures.randomArray(rows * n, seed: 8)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * n)
            Layers.linear(
                out: &out, input: x, weight: w, bias: b, rows: rows, inputWidth: k, outputWidth: n, pool: pool)
            return out
        }
        var dx = [Float](repeating: 0, count: rows * k)
        var dw = [Float](repeating: 0, count: n * k)
        var db = [Float](repeating: 0, count: n)
        Layers.linearBackward(
            dinput: &dx, dweight: &dw, dbias: &db, dout: g, input: x, weight: w, rows: rows, inputWidth: k,
            outputWidth: n, pool: pool)
        let xi = Array(0..<(rows * k))
        Self.expectClose(
            dx, Self.numeric(&x, indices: xi, step: 1e-2) { Self.weighted(forward($0, w, b), g) }, indices: xi, "dx")
        let wi = Array(0..<(n * k))
        Self.expectClose(
            dw, Self.numeric(&w, indices: wi, step: 1e-2) { Self.weighted(forward(x, $0, b), g) }, indices: wi, "dw")
        let bi = Array(0..<n)
        Self.expectClose(
            db, Self.numeric(&b, indices: bi, step: 1e-2) { Self.weighted(forward(x, w, $0), g) }, indices: bi, "db")
    }

    @Test func attention() {
        let shape = Attention.Shape(batch: 2, length: 5, width: 8, heads: 2)
        let rows = shape.batch * shape.length
        var qkv = Fixtures.randomArray(rows * 3 * shape.width, seed: 9, scale: 1.5)
        let g = Fixtures.randomArray(rows * shape.width, seed: 10)
        func forward(_ qkv: [Float]) -> (out: [Float], probabilities: [Float]) {
            var out = [Float](repeating: 0, count: rows * shape.width)
            var probabilities = [Float](
                repeating: 0, count: shape.batch * shape.heads * shape.length * shape.length + 16)
            Attention.forward(out: &out, probabilities: &probabilities, qkv: qkv, shape: shape, pool: pool)
            return (out, probabilities)
        }
        let (_, probabilities) = forward(qkv)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        Attention.backward(dqkv: &dqkv, dout: g, probabilities: probabilities, qkv: qkv, shape: shape, pool: pool)
        let all = Array(0..<qkv.count)
        Self.expectClose(
            dqkv, Self.numeric(&qkv, indices: all, step: 1e-2) { Self.weighted(forward($0).out, g) }, indices: all,
            "dqkv")
    }

    @Test func gelu() {
        var x = Fixtures.randomArray(37, seed: 11, scale: 4)
        let g = Fixtures.randomArray(37, seed: 12)
        func forward(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: x.count)
            Layers.gelu(out: &out, input: x, count: x.count, pool: pool)
            return out
        }
        for (xi, yi) in zip(x, forward(x)) {
            let reference =
                0.5 * Double(xi) * (1 + Foundation.tanh(0.797_884_560_8 * (Double(xi) + 0.044715 * pow(Double(xi), 3))))
            #expect(abs(Double(yi) - reference) < 1e-6 * max(1, abs(reference)), "gelu(\(xi))")
        }
        var dx = [Float](repeating: 0, count: x.count)
        Layers.geluBackward(dinput: &dx, input: x, dout: g, count: x.count, pool: pool)
        let all = Array(0..<x.count)
        Self.expectClose(
            dx, Self.numeric(&x, indices: all, step: 1e-2) { Self.weighted(forward($0), g) }, indices: all, "dx")
    }

    @Test func maskedSoftmaxCrossEntropy() {
        let (rows, v) = (6, 19)
        var logits = Fixtures.randomArray(rows * v, seed: 13, scale: 3)
        let targets: [Int32] = [3, 0, 18, 7, -1, 5]
        let mask: [Float] = [1, 0, 1, 1, 0, 2]
        func loss(_ logits: [Float]) -> (loss: Float, weight: Float, probabilities: [Float]) {
            var probabilities = logits
            var logProbabilities = [Float](repeating: 0, count: rows)
            Losses.softmaxLogProbabilities(
                logits: &probabilities, targets: targets, rows: rows, vocabulary: v,
                logProbabilities: &logProbabilities,
                pool: pool)
            let (l, w) = Losses.maskedMean(negated: logProbabilities, mask: mask, rows: rows)
            return (l, w, probabilities)
        }
        var (_, weight, gradient) = loss(logits)
        #expect(weight == 5)
        Losses.softmaxBackward(
            probabilities: &gradient, targets: targets, mask: mask, weight: weight, rows: rows, vocabulary: v,
            pool: pool)
        let all = Array(0..<logits.count)
        Self.expectClose(
            gradient, Self.numeric(&logits, indices: all, step: 1e-2) { Double(loss($0).loss) }, indices: all,
            absolute: 2e-4, "dlogits")
    }

    @Test func maskedScalarHead() {
        let (rows, c) = (7, 12)
        var x = Fixtures.randomArray(rows * c, seed: 14, scale: 2)
        var w = Fixtures.randomArray(c, seed: 15)
        var b: [Float] = [0.3]
        let labels: [Float] = [1, 0, 1, 1, 0, 0, 1]
        let mask: [Float] = [1, 1, 0, 1, 0, 1, 1]
        func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> (Float, [Float]) {
            var z = [Float](repeating: 0, count: rows)
            Losses.scalarLogits(out: &z, input: x, weight: w, bias: b, rows: rows, width: c, pool: pool)
            return (Losses.binaryCrossEntropy(logits: z, labels: labels, mask: mask, rows: rows).loss, z)
        }
        let (_, z) = loss(x, w, b)
        var dx = [Float](repeating: 0, count: rows * c)
        var dw = [Float](repeating: 0, count: c)
        var db: [Float] = [0]
        Losses.scalarBackward(
            dinput: &dx, dweight: &dw, dbias: &db, input: x, weight: w, logits: z, labels: labels, mask: mask,
            lossWeight: 5, rows: rows, width: c, pool: pool)
        let xi = Array(0..<(rows * c))
        Self.expectClose(
            dx, Self.numeric(&x, indices: xi, step: 1e-2) { Double(loss($0, w, b).0) }, indices: xi, absolute: 2e-4,
            "dx")
        let wi = Array(0..<c)
        Self.expectClose(
            dw, Self.numeric(&w, indices: wi, step: 1e-2) { Double(loss(x, $0, b).0) }, indices: wi, absolute: 2e-4,
            "dw")
        Self.expectClose(
            db, Self.numeric(&b, indices: [0], step: 1e-2) { Double(loss(x, w, $0).0) }, indices: [0], absolute: 2e-4,
            "db")
    }

    @Test func embedding() {
        let (batch, length, c, vocabulary) = (2, 3, 8, 5)
        var tokenEmbedding = Fixtures.randomArray(vocabulary * c, seed: 16)
        var positionEmbedding = Fixtures.randomArray(length * c, seed: 17)
        let tokens: [Int32] = [1, 4, 1, 0, 1, 3]
        let g = Fixtures.randomArray(batch * length * c, seed: 18)
        func forward(_ wte: [Float], _ wpe: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: batch * length * c)
            Layers.embed(
                out: &out, tokens: tokens, batch: batch, length: length, tokenEmbedding: wte, positionEmbedding: wpe,
                width: c, pool: pool)
            return out
        }
        var dwte = [Float](repeating: 0, count: vocabulary * c)
        var dwpe = [Float](repeating: 0, count: length * c)
        Layers.embedBackward(
            tokenGradient: &dwte, positionGradient: &dwpe, dout: g, tokens: tokens, batch: batch, length: length,
            width: c, pool: pool)
        let ti = Array(0..<(vocabulary * c))
        Self.expectClose(
            dwte,
            Self.numeric(&tokenEmbedding, indices: ti, step: 1e-2) { Self.weighted(forward($0, positionEmbedding), g) },
            indices: ti, "dwte")
        let pi = Array(0..<(length * c))
        Self.expectClose(
            dwpe,
            Self.numeric(&positionEmbedding, indices: pi, step: 1e-2) { Self.weighted(forward(tokenEmbedding, $0), g) },
            indices: pi, "dwpe")
    }

    /// The whole model (embeddings, residuals, both heads' losses with their masks) on a few
    /// parameters of every tensor.
    @Test(arguments: [ModelHead.languageModel, .scalar, .both])
    func wholeModel(head: ModelHead) {
        let config = Fixtures.config(head, vocabulary: 7, context: 6, layers: 2, width: 16, heads: 2)
        let model = Transformer(config: config, seed: 3)
        let trainer = Trainer(
            model: model, optimizer: AdamWConfig(), schedule: LearningRateSchedule(warmupSteps: 1, totalSteps: 10),
            gradientClip: 0, pool: ComputePool(threads: 2))
        let batch = Fixtures.batch(config: config, batchSize: 3, length: 6, seed: 5)
        _ = trainer.computeGradients(batch)
        let analytic = Array(trainer.gradients.buffer)
        var parameters = Array(model.parameters.buffer)
        var indices: [Int] = []
        for tensor in model.layout.tensors {
            for j in [0, tensor.count / 2, tensor.count - 1] { indices.append(tensor.offset + j) }
        }
        let numeric = Self.numeric(&parameters, indices: indices, step: 2e-3) { values in
            model.parameters.base.update(from: values, count: values.count)
            let losses = trainer.computeGradients(batch)
            return Double(losses.languageModel) + Double(losses.scalar)
        }
        Self.expectClose(analytic, numeric, indices: indices, relative: 3e-2, absolute: 2e-4, "\(head)")
    }
    /// Signed per-token weights (policy-gradient advantages) with a fixed normalizer: the loss is
    /// Σ w·(−log p) / N — the weights here sum to zero, where a weighted mean would be undefined —
    /// and its gradient matches finite differences.
    @Test func signedWeightsWithAFixedNormalizer() throws {
        let config = Fixtures.config(.languageModel, vocabulary: 7, context: 6, layers: 2, width: 16, heads: 2)
        let model = Transformer(config: config, seed: 4)
        let trainer = Trainer(
            model: model, optimizer: AdamWConfig(), schedule: LearningRateSchedule(warmupSteps: 1, totalSteps: 10),
            gradientClip: 0, pool: ComputePool(threads: 2))
        var batch = Fixtures.batch(config: config, batchSize: 3, length: 6, seed: 6)
        let advantages = Fixtures.randomArray(batch.lossMask.count, seed: 19, scale: 2)
        // A row's last target lies past its tokens, where `score` has no log-probability: leave it out.
        batch.lossMask = batch.lossMask.indices.map { $0 % 6 == 5 ? 0 : batch.lossMask[$0] * advantages[$0] }
        let counted = batch.lossMask.indices.filter { batch.lossMask[$0] != 0 }
        let last = try #require(counted.last)
        batch.lossMask[last] -= batch.lossMask.reduce(0, +)
        #expect(abs(batch.lossMask.reduce(0, +)) < 1e-5)
        batch.lossNormalizer = Float(counted.count)

        // The loss is the score pass's log-probabilities weighted and divided by N.
        let scored = model.score(tokens: batch.tokens, batchSize: 3, length: 6, pool: ComputePool(threads: 1))
            .nextTokenLogProb
        var expected: Double = 0
        for i in counted {
            // score's log P(tokens[t+1] | ...t) is the training target's log-probability at t.
            expected -= Double(batch.lossMask[i]) * Double(scored[i])
        }
        expected /= Double(counted.count)
        let loss = trainer.computeGradients(batch).languageModel
        #expect(abs(Double(loss) - expected) < 1e-4 * max(1, abs(expected)), "loss \(loss), expected \(expected)")

        let analytic = Array(trainer.gradients.buffer)
        var parameters = Array(model.parameters.buffer)
        var indices: [Int] = []
        for tensor in model.layout.tensors {
            for j in [0, tensor.count / 2, tensor.count - 1] { indices.append(tensor.offset + j) }
        }
        let numeric = Self.numeric(&parameters, indices: indices, step: 2e-3) { values in
            model.parameters.base.update(from: values, count: values.count)
            return Double(trainer.computeGradients(batch).languageModel)
        }
        Self.expectClose(analytic, numeric, indices: indices, relative: 3e-2, absolute: 2e-4, "signed weights")
        #expect(indices.contains { abs(analytic[$0]) > 1e-3 }, "the gradient is not trivially zero")
    }
}
