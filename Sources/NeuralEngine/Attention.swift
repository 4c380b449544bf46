/// Causal multi-head self-attention. `qkv` rows are [q | k | v], each `width` wide; head h uses
/// columns h*headSize..<(h+1)*headSize of each. Work is split by (sequence, head) pairs, which own
/// disjoint outputs and disjoint gradient slices.
enum Attention {
    typealias Vector = SIMD16<Float>

    struct Shape {
        var batch: Int
        var length: Int
        var width: Int
        var heads: Int
        var headSize: Int { width / heads }
        /// Row stride of transposed keys: the length rounded up to whole vectors.
        var keyStride: Int { (length + 15) / 16 * 16 }
    }

    /// out[b, t, head] = Σ_j softmax_j(q_t · k_j / sqrt(headSize)) v_j over j <= t; the probabilities are
    /// kept in `probabilities` [batch, heads, length, length] (zeros above the diagonal) for backward.
    static func forward(
        out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        shape: Shape, pool: ComputePool
    ) {
        let (T, C, hs) = (shape.length, shape.width, shape.headSize)
        pool.parallelFor(shape.batch * shape.heads) { pairs in
            let keys = UnsafeMutablePointer<Float>.allocate(capacity: hs * shape.keyStride)
            defer { keys.deallocate() }
            for pair in pairs {
                let b = pair / shape.heads
                let h = pair % shape.heads
                let sequence = qkv + b * T * 3 * C
                for t in 0..<T {
                    for i in 0..<hs { keys[i * shape.keyStride + t] = sequence[t * 3 * C + C + h * hs + i] }
                }
                for t in 0..<T {
                    let row = probabilities + (pair * T + t) * T
                    attendRow(
                        query: sequence + t * 3 * C + h * hs, transposedKeys: keys, keyStride: shape.keyStride,
                        values: sequence + 2 * C + h * hs, valueStride: 3 * C, count: t + 1, headSize: hs,
                        probabilities: row, out: out + (b * T + t) * C + h * hs)
                    (row + t + 1).update(repeating: 0, count: T - t - 1)
                }
            }
        }
    }

    /// One query against `count` keys and values. Training, scoring and cached sampling all compute
    /// attention through `probabilities(...)` and the per-element chain of `weightedValues`, which is
    /// why a cached sampler reproduces an uncached forward pass exactly.
    @inline(__always)
    static func attendRow(
        query q: UnsafePointer<Float>, transposedKeys keys: UnsafePointer<Float>, keyStride: Int,
        values: UnsafePointer<Float>, valueStride: Int, count: Int, headSize hs: Int,
        probabilities p: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) {
        probabilities(query: q, transposedKeys: keys, keyStride: keyStride, count: count, headSize: hs, into: p)
        weightedValues(p, values: values, valueStride: valueStride, count: count, headSize: hs, out: out)
    }

    /// p[j] = softmax_j(q · k_j / sqrt(headSize)) for j < count; each score is one fma chain over the
    /// head's dimensions. Only p[0..<count] is written; keys are read up to `count` rounded up to 16
    /// (within `keyStride`).
    @inline(__always)
    static func probabilities(
        query q: UnsafePointer<Float>, transposedKeys keys: UnsafePointer<Float>, keyStride: Int, count: Int,
        headSize hs: Int, into p: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(hs).squareRoot()
        var j = 0
        // Four chunks of keys at once: independent chains keep the FMA units busy.
        while j + 64 <= count {
            var s0 = Vector()
            var s1 = Vector()
            var s2 = Vector()
            var s3 = Vector()
            for i in 0..<hs {
                let qi = Vector(repeating: q[i])
                let k = keys + i * keyStride + j
                s0 = s0.addingProduct(qi, load(k))
                s1 = s1.addingProduct(qi, load(k + 16))
                s2 = s2.addingProduct(qi, load(k + 32))
                s3 = s3.addingProduct(qi, load(k + 48))
            }
            store(s0 * scale, p + j)
            store(s1 * scale, p + j + 16)
            store(s2 * scale, p + j + 32)
            store(s3 * scale, p + j + 48)
            j += 64
        }
        while j < count {
            var score = Vector()
            for i in 0..<hs { score = score.addingProduct(Vector(repeating: q[i]), load(keys + i * keyStride + j)) }
            score *= scale
            if j + 16 <= count {
                store(score, p + j)
            } else {
                for lane in 0..<(count - j) { p[j + lane] = score[lane] }
            }
            j += 16
        }
        var maximum = -Float.infinity
        for j in 0..<count { maximum = max(maximum, p[j]) }
        j = 0
        while j + 16 <= count {
            store(Elementary.exp(load(p + j) - maximum), p + j)
            j += 16
        }
        if j < count {
            var tail = Vector(repeating: maximum)
            for lane in 0..<(count - j) { tail[lane] = p[j + lane] }
            let e = Elementary.exp(tail - maximum)
            for lane in 0..<(count - j) { p[j + lane] = e[lane] }
        }
        let inverse = 1 / Reduction.sum(p, count)
        for j in 0..<count { p[j] *= inverse }
    }

    /// out[i] = Σ_j p[j] v_j[i], one fma chain per element in increasing j.
    @inline(__always)
    static func weightedValues(
        _ p: UnsafePointer<Float>, values: UnsafePointer<Float>, valueStride: Int, count: Int, headSize hs: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        var i = 0
        while i + 32 <= hs {
            var a0 = Vector()
            var a1 = Vector()
            for j in 0..<count {
                let pj = Vector(repeating: p[j])
                let v = values + j * valueStride + i
                a0 = a0.addingProduct(pj, load(v))
                a1 = a1.addingProduct(pj, load(v + 16))
            }
            store(a0, out + i)
            store(a1, out + i + 16)
            i += 32
        }
        while i + 16 <= hs {
            var acc = Vector()
            for j in 0..<count { acc = acc.addingProduct(Vector(repeating: p[j]), load(values + j * valueStride + i)) }
            store(acc, out + i)
            i += 16
        }
        while i < hs {
            var acc: Float = 0
            for j in 0..<count { acc = acc.addingProduct(p[j], values[j * valueStride + i]) }
            out[i] = acc
            i += 1
        }
    }

    /// `weightedValues` for every head of one row at once (values rows hold all heads, `width` wide;
    /// head h's probabilities start at p + h * probabilityStride). Same chains, interleaved across
    /// heads so that they overlap; needs headSize to be a multiple of 16.
    @inline(__always)
    static func weightedValuesAllHeads(
        _ p: UnsafePointer<Float>, probabilityStride: Int, values: UnsafePointer<Float>, count: Int, width c: Int,
        headSize hs: Int, out: UnsafeMutablePointer<Float>
    ) {
        out.update(repeating: 0, count: c)
        for j in 0..<count {
            let v = values + j * c
            var i = 0
            while i < c {
                let pj = Vector(repeating: p[(i / hs) * probabilityStride + j])
                store(load(out + i).addingProduct(pj, load(v + i)), out + i)
                i += 16
            }
        }
    }

    /// dqkv (zeroed here) from dout and the stored probabilities. Per (sequence, head) pair, four small
    /// matrix products on one thread (rows above the diagonal have zero probability and drop out):
    /// dP = dO·Vᵀ, dS = P ⊙ (dP - rowsum(P ⊙ dP)) / sqrt(headSize), dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dO.
    static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probabilities: UnsafePointer<Float>,
        qkv: UnsafePointer<Float>, shape: Shape, pool: ComputePool
    ) {
        let (T, C, hs) = (shape.length, shape.width, shape.headSize)
        let scale = 1 / Float(hs).squareRoot()
        dqkv.update(repeating: 0, count: shape.batch * T * 3 * C)
        pool.parallelForWorkers(shape.batch * shape.heads) { pairs, worker in
            // The products run inside this worker, on a pool of its own with no extra threads.
            let serial = ComputePool(threads: 1)
            let gradient = pool.scratch(1 + worker, count: T * T)
            for pair in pairs {
                let b = pair / shape.heads
                let h = pair % shape.heads
                let p = probabilities + pair * T * T
                let q = StridedMatrix(base: qkv + b * T * 3 * C + h * hs, rowStride: 3 * C, columnStride: 1)
                let k = StridedMatrix(base: q.base + C, rowStride: 3 * C, columnStride: 1)
                let v = StridedMatrix(base: q.base + 2 * C, rowStride: 3 * C, columnStride: 1)
                let d = StridedMatrix(base: dout + b * T * C + h * hs, rowStride: C, columnStride: 1)
                let dq = dqkv + b * T * 3 * C + h * hs
                gradient.update(repeating: 0, count: T * T)
                GEMM.multiplyAccumulate(
                    m: T, n: T, k: hs, a: d, b: StridedMatrix(base: v.base, rowStride: 1, columnStride: 3 * C),
                    c: gradient, ldc: T, pool: serial)
                for t in 0..<T {
                    let pt = p + t * T
                    let gt = gradient + t * T
                    let expected = Reduction.dot(pt, gt, t + 1)
                    for j in 0...t { gt[j] = pt[j] * (gt[j] - expected) * scale }
                    for j in (t + 1)..<T { gt[j] = 0 }
                }
                GEMM.multiplyAccumulate(
                    m: T, n: hs, k: T, a: .rowMajor(gradient, columns: T), b: k, c: dq, ldc: 3 * C, pool: serial)
                GEMM.multiplyAccumulate(
                    m: T, n: hs, k: T, a: .transposed(gradient, columns: T), b: q, c: dq + C, ldc: 3 * C,
                    pool: serial)
                GEMM.multiplyAccumulate(
                    m: T, n: hs, k: T, a: .transposed(p, columns: T), b: d, c: dq + 2 * C, ldc: 3 * C, pool: serial)
            }
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    private static func load(_ p: UnsafeMutablePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    private static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }
}
