/// The two heads' losses: softmax cross-entropy over the vocabulary for the language-model head,
/// binary cross-entropy on a logit for the scalar head. Each is a mean over the positions its mask
/// selects (the language-model loss may instead be divided by a given normalizer); the per-row terms are summed in row order on one thread.
enum Losses {
    /// Turns each row of `logits` into probabilities in place and writes log P(target) per row.
    /// Rows whose target is negative get a log-probability of 0.
    static func softmaxLogProbabilities(
        logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocabulary v: Int,
        logProbabilities: UnsafeMutablePointer<Float>, pool: ComputePool
    ) {
        pool.parallelFor(rows) { range in
            for row in range {
                let l = logits + row * v
                let target = Int(targets[row])
                let logProbability = softmaxRow(l, v, target: target)
                logProbabilities[row] = logProbability
            }
        }
    }

    /// Softmax of one row in place; returns log P(target) (0 when target is out of range).
    @inline(__always)
    static func softmaxRow(_ l: UnsafeMutablePointer<Float>, _ v: Int, target: Int) -> Float {
        var maximum = -Float.infinity
        for i in 0..<v { maximum = max(maximum, l[i]) }
        let targetLogit = target >= 0 && target < v ? l[target] : maximum
        var j = 0
        while j < v {
            let valid = min(16, v - j)
            var x = SIMD16<Float>(repeating: -.infinity)
            for lane in 0..<valid { x[lane] = l[j + lane] }
            let e = Elementary.exp(x - maximum)
            for lane in 0..<valid { l[j + lane] = e[lane] }
            j += 16
        }
        let total = Reduction.sum(l, v)
        let inverse = 1 / total
        for i in 0..<v { l[i] *= inverse }
        guard target >= 0 && target < v else { return 0 }
        return (targetLogit - maximum) - Elementary.log(total)
    }

    /// Σ mask·(−logProbability) divided by `normalizer`, or by Σ mask when it is nil (a weighted mean;
    /// 0 when no row counts). Returns the divisor as `weight`, which the backward pass divides by.
    static func maskedMean(
        negated values: UnsafePointer<Float>, mask: UnsafePointer<Float>, rows: Int, normalizer: Float? = nil
    ) -> (
        loss: Float, weight: Float
    ) {
        var total: Double = 0
        var weight: Double = 0
        for row in 0..<rows where mask[row] != 0 {
            total -= Double(values[row]) * Double(mask[row])
            weight += Double(mask[row])
        }
        if let normalizer { return (Float(total / Double(normalizer)), normalizer) }
        return weight > 0 ? (Float(total / weight), Float(weight)) : (0, 0)
    }

    /// dlogits = (probabilities - onehot(target)) * mask / weight, in place over the probabilities.
    static func softmaxBackward(
        probabilities: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>,
        weight: Float, rows: Int, vocabulary v: Int, pool: ComputePool
    ) {
        pool.parallelFor(rows) { range in
            for row in range {
                let p = probabilities + row * v
                let factor = weight > 0 ? mask[row] / weight : 0
                if factor == 0 {
                    p.update(repeating: 0, count: v)
                    continue
                }
                let target = Int(targets[row])
                for i in 0..<v { p[i] = (p[i] - (i == target ? 1 : 0)) * factor }
            }
        }
    }

    /// z[row] = lnf[row] · w + b.
    static func scalarLogits(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, rows: Int, width c: Int, pool: ComputePool
    ) {
        pool.parallelFor(rows) { range in
            for row in range { out[row] = Reduction.dot(input + row * c, weight, c) + bias[0] }
        }
    }

    /// Mean binary cross-entropy over rows with mask > 0, with labels in [0, 1].
    static func binaryCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, mask: UnsafePointer<Float>, rows: Int
    ) -> (loss: Float, weight: Float) {
        var total: Double = 0
        var weight: Double = 0
        for row in 0..<rows where mask[row] != 0 {
            let z = logits[row]
            total += Double(Elementary.softplus(z) - labels[row] * z) * Double(mask[row])
            weight += Double(mask[row])
        }
        return weight > 0 ? (Float(total / weight), Float(weight)) : (0, 0)
    }

    /// dinput[row] += dz * w; dweight += Σ dz * input[row]; dbias += Σ dz; dz = (σ(z) - y) * mask / weight.
    static func scalarBackward(
        dinput: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, weight w: UnsafePointer<Float>, logits: UnsafePointer<Float>,
        labels: UnsafePointer<Float>, mask: UnsafePointer<Float>, lossWeight: Float, rows: Int, width c: Int,
        pool: ComputePool
    ) {
        guard lossWeight > 0 else { return }
        let dz = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { dz.deallocate() }
        for row in 0..<rows {
            dz[row] = mask[row] == 0 ? 0 : (Elementary.sigmoid(logits[row]) - labels[row]) * mask[row] / lossWeight
        }
        pool.parallelFor(rows) { range in
            for row in range where dz[row] != 0 {
                let d = dinput + row * c
                for i in 0..<c { d[i] = d[i].addingProduct(dz[row], w[i]) }
            }
        }
        pool.parallelFor(c) { columns in
            for row in 0..<rows where dz[row] != 0 {
                let x = input + row * c
                for i in columns { dweight[i] = dweight[i].addingProduct(dz[row], x[i]) }
            }
        }
        for row in 0..<rows { dbias[0] += dz[row] }
    }
}
