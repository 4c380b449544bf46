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
                transposeKeys(
                    of: sequence + C + h * hs, rowStride: 3 * C, length: T, headSize: hs, into: keys,
                    keyStride: shape.keyStride)
                var t = 0
                while t + 4 <= T {
                    let rows = probabilities + (pair * T + t) * T
                    scoresFourRows(
                        queries: sequence + t * 3 * C + h * hs, queryStride: 3 * C, transposedKeys: keys,
                        keyStride: shape.keyStride, first: t, headSize: hs, into: rows, rowStride: T)
                    for r in 0..<4 {
                        softmax(rows + r * T, count: t + r + 1)
                        (rows + r * T + t + r + 1).update(repeating: 0, count: T - t - r - 1)
                    }
                    t += 4
                }
                while t < T {
                    let row = probabilities + (pair * T + t) * T
                    Self.probabilities(
                        query: sequence + t * 3 * C + h * hs, transposedKeys: keys, keyStride: shape.keyStride,
                        count: t + 1, headSize: hs, into: row)
                    (row + t + 1).update(repeating: 0, count: T - t - 1)
                    t += 1
                }
                let values = sequence + 2 * C + h * hs
                t = 0
                if hs == 32 {
                    while t + 4 <= T {
                        weightedValuesFourRows(
                            probabilities + (pair * T + t) * T, probabilityStride: T, values: values,
                            valueStride: 3 * C, first: t, out: out + (b * T + t) * C + h * hs, outStride: C)
                        t += 4
                    }
                }
                while t < T {
                    weightedValues(
                        probabilities + (pair * T + t) * T, values: values, valueStride: 3 * C, count: t + 1,
                        headSize: hs, out: out + (b * T + t) * C + h * hs)
                    t += 1
                }
            }
        }
    }

    /// p[j] = softmax_j(q · k_j / sqrt(headSize)) for j < count; each score is one fma chain over the
    /// head's dimensions. Training, scoring and cached sampling all compute attention with this and
    /// with the per-element chains of the `weightedValues` family (however those interleave rows or
    /// heads), which is why a cached sampler reproduces an uncached forward pass exactly. Only p[0..<count] is written; keys are read up to `count` rounded up to 16
    /// (within `keyStride`).
    @inline(__always)
    static func probabilities(
        query q: UnsafePointer<Float>, transposedKeys keys: UnsafePointer<Float>, keyStride: Int, count: Int,
        headSize hs: Int, into p: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(hs).squareRoot()
        let chunks = (count + 15) / 16
        var chunk = 0
        // Several chunks of keys at once: independent chains keep the FMA units busy. A partial last
        // chunk reads keys past `count` (within the stride) and keeps only its valid lanes.
        while chunk + 4 <= chunks {
            let j = chunk * 16
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
            storeScores(s0 * scale, p, from: j, count: count)
            storeScores(s1 * scale, p, from: j + 16, count: count)
            storeScores(s2 * scale, p, from: j + 32, count: count)
            storeScores(s3 * scale, p, from: j + 48, count: count)
            chunk += 4
        }
        if chunk + 2 <= chunks {
            let j = chunk * 16
            var s0 = Vector()
            var s1 = Vector()
            for i in 0..<hs {
                let qi = Vector(repeating: q[i])
                let k = keys + i * keyStride + j
                s0 = s0.addingProduct(qi, load(k))
                s1 = s1.addingProduct(qi, load(k + 16))
            }
            storeScores(s0 * scale, p, from: j, count: count)
            storeScores(s1 * scale, p, from: j + 16, count: count)
            chunk += 2
        }
        if chunk < chunks {
            let j = chunk * 16
            var score = Vector()
            for i in 0..<hs { score = score.addingProduct(Vector(repeating: q[i]), load(keys + i * keyStride + j)) }
            storeScores(score * scale, p, from: j, count: count)
        }
        softmax(p, count: count)
    }

    /// The scores of `probabilities` for four consecutive queries t..t+3 (counts t+1...t+4), row r at
    /// p + r * rowStride: the same chain per score, four rows' chains at once on each load of keys, which keeps
    /// the FMA units busy where one row has too few keys (short prefixes) to do so.
    @inline(__always)
    static func scoresFourRows(
        queries q: UnsafePointer<Float>, queryStride qs: Int, transposedKeys keys: UnsafePointer<Float>,
        keyStride: Int, first t: Int, headSize hs: Int, into p: UnsafeMutablePointer<Float>, rowStride ps: Int
    ) {
        let scale = 1 / Float(hs).squareRoot()
        let chunks = (t + 4 + 15) / 16
        func keep(_ scores: Vector, row r: Int, from j: Int) {
            // A row whose keys end before this chunk keeps none of it.
            if j < t + r + 1 { storeScores(scores * scale, p + r * ps, from: j, count: t + r + 1) }
        }
        var chunk = 0
        while chunk + 2 <= chunks {
            let j = chunk * 16
            var tile = FourRowTile()
            for i in 0..<hs {
                let k = keys + i * keyStride + j
                tile.add(q[i], q[qs + i], q[2 * qs + i], q[3 * qs + i], times: load(k), load(k + 16))
            }
            keep(tile.a0, row: 0, from: j)
            keep(tile.a1, row: 0, from: j + 16)
            keep(tile.b0, row: 1, from: j)
            keep(tile.b1, row: 1, from: j + 16)
            keep(tile.c0, row: 2, from: j)
            keep(tile.c1, row: 2, from: j + 16)
            keep(tile.d0, row: 3, from: j)
            keep(tile.d1, row: 3, from: j + 16)
            chunk += 2
        }
        if chunk < chunks {
            let j = chunk * 16
            var (a, b, c, d) = (Vector(), Vector(), Vector(), Vector())
            for i in 0..<hs {
                let k = load(keys + i * keyStride + j)
                a = a.addingProduct(Vector(repeating: q[i]), k)
                b = b.addingProduct(Vector(repeating: q[qs + i]), k)
                c = c.addingProduct(Vector(repeating: q[2 * qs + i]), k)
                d = d.addingProduct(Vector(repeating: q[3 * qs + i]), k)
            }
            keep(a, row: 0, from: j)
            keep(b, row: 1, from: j)
            keep(c, row: 2, from: j)
            keep(d, row: 3, from: j)
        }
    }

    /// p[0..<count] = softmax(p[0..<count]), in place. A function of its own, never inlined: inlined into the
    /// forward pass's loop, it called `exp` instead of inlining it. The sum is `Reduction.sum`'s, in its order (lane
    /// sums over whole vectors, collapsed, then the tail left to right), taken as the exponentials are made.
    @inline(never)
    static func softmax(_ p: UnsafeMutablePointer<Float>, count: Int) {
        // The maximum is exact whatever the order, so lanes first, then a tree across them.
        var lanes = Vector(repeating: -.infinity)
        var j = 0
        while j + 16 <= count {
            let x = load(p + j)
            lanes.replace(with: x, where: x .> lanes)
            j += 16
        }
        var maximum = Reduction.maximum(lanes)
        for t in j..<count { maximum = max(maximum, p[t]) }
        var sums = Vector()
        j = 0
        while j + 16 <= count {
            let e = Elementary.exp(load(p + j) - maximum)
            store(e, p + j)
            sums += e
            j += 16
        }
        var total = Reduction.collapse(sums)
        // The tail through one padded vector, copied in and out whole: filled lane by lane, each lane's write and
        // the vector's reload stalled the store buffer (a quarter of the function's time).
        let tail = count - j
        var tailExponentials = Vector()
        if tail > 0 {
            var padded = Vector(repeating: maximum)
            withUnsafeMutableBytes(of: &padded) { $0.baseAddress!.copyMemory(from: p + j, byteCount: tail * 4) }
            tailExponentials = Elementary.exp(padded - maximum)
            for lane in 0..<tail { total += tailExponentials[lane] }
        }
        let inverse = 1 / total
        j = 0
        while j + 16 <= count {
            store(load(p + j) * inverse, p + j)
            j += 16
        }
        if tail > 0 {
            let probabilities = tailExponentials * inverse
            withUnsafeBytes(of: probabilities) {
                (p + j).update(from: $0.assumingMemoryBound(to: Float.self).baseAddress!, count: tail)
            }
        }
    }

    /// keys[i * keyStride + t] = rows[t * rowStride + i]: a head's keys transposed, so that a score's chain reads 16
    /// keys per load. Pointers step rather than indices multiply: with an overflow check on every index, this copy
    /// took 29 % of the attention's time, twice what it takes now.
    @inline(__always)
    static func transposeKeys(
        of rows: UnsafePointer<Float>, rowStride: Int, length: Int, headSize: Int,
        into keys: UnsafeMutablePointer<Float>, keyStride: Int
    ) {
        var row = rows
        for t in 0..<length {
            var destination = keys + t
            for i in 0..<headSize {
                destination.pointee = row[i]
                destination += keyStride
            }
            row += rowStride
        }
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

    /// `weightedValues` for four consecutive queries t..t+3 of one head of size 32 (their counts are
    /// t+1...t+4): the shared prefix of keys runs eight chains at once, then each row finishes its own.
    @inline(__always)
    static func weightedValuesFourRows(
        _ p: UnsafePointer<Float>, probabilityStride ps: Int, values: UnsafePointer<Float>, valueStride: Int,
        first t: Int, out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        var tile = FourRowTile()
        for j in 0...t {
            let v = values + j * valueStride
            tile.add(p[j], p[ps + j], p[2 * ps + j], p[3 * ps + j], times: load(v), load(v + 16))
        }
        for j in (t + 1)...(t + 3) {
            let v = values + j * valueStride
            let (v0, v1) = (load(v), load(v + 16))
            if j <= t + 1 {
                tile.b0 = tile.b0.addingProduct(Vector(repeating: p[ps + j]), v0)
                tile.b1 = tile.b1.addingProduct(Vector(repeating: p[ps + j]), v1)
            }
            if j <= t + 2 {
                tile.c0 = tile.c0.addingProduct(Vector(repeating: p[2 * ps + j]), v0)
                tile.c1 = tile.c1.addingProduct(Vector(repeating: p[2 * ps + j]), v1)
            }
            tile.d0 = tile.d0.addingProduct(Vector(repeating: p[3 * ps + j]), v0)
            tile.d1 = tile.d1.addingProduct(Vector(repeating: p[3 * ps + j]), v1)
        }
        store(tile.a0, out)
        store(tile.a1, out + 16)
        store(tile.b0, out + outStride)
        store(tile.b1, out + outStride + 16)
        store(tile.c0, out + 2 * outStride)
        store(tile.c1, out + 2 * outStride + 16)
        store(tile.d0, out + 3 * outStride)
        store(tile.d1, out + 3 * outStride + 16)
    }

    /// `weightedValues` for every head of one row at once (values rows hold all heads, `width` wide;
    /// head h's probabilities start at p + h * probabilityStride). Same chains, interleaved across
    /// heads so that they overlap; needs headSize to be a multiple of 16.
    @inline(__always)
    static func weightedValuesAllHeads(
        _ p: UnsafePointer<Float>, probabilityStride: Int, values: UnsafePointer<Float>, count: Int, width c: Int,
        headSize hs: Int, out: UnsafeMutablePointer<Float>
    ) {
        func probabilities(_ i: Int) -> UnsafePointer<Float> { p + (i / hs) * probabilityStride }
        var i = 0
        // Eight vectors of the row at a time, their chains in registers.
        while i + 128 <= c {
            let (p0, p1, p2, p3) = (
                probabilities(i), probabilities(i + 16), probabilities(i + 32), probabilities(i + 48)
            )
            let (p4, p5, p6, p7) = (
                probabilities(i + 64), probabilities(i + 80), probabilities(i + 96), probabilities(i + 112)
            )
            var (a0, a1, a2, a3, a4, a5, a6, a7) = (
                Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector()
            )
            for j in 0..<count {
                let v = values + j * c + i
                a0 = a0.addingProduct(Vector(repeating: p0[j]), load(v))
                a1 = a1.addingProduct(Vector(repeating: p1[j]), load(v + 16))
                a2 = a2.addingProduct(Vector(repeating: p2[j]), load(v + 32))
                a3 = a3.addingProduct(Vector(repeating: p3[j]), load(v + 48))
                a4 = a4.addingProduct(Vector(repeating: p4[j]), load(v + 64))
                a5 = a5.addingProduct(Vector(repeating: p5[j]), load(v + 80))
                a6 = a6.addingProduct(Vector(repeating: p6[j]), load(v + 96))
                a7 = a7.addingProduct(Vector(repeating: p7[j]), load(v + 112))
            }
            store(a0, out + i)
            store(a1, out + i + 16)
            store(a2, out + i + 32)
            store(a3, out + i + 48)
            store(a4, out + i + 64)
            store(a5, out + i + 80)
            store(a6, out + i + 96)
            store(a7, out + i + 112)
            i += 128
        }
        while i < c {
            let pi = probabilities(i)
            var acc = Vector()
            for j in 0..<count { acc = acc.addingProduct(Vector(repeating: pi[j]), load(values + j * c + i)) }
            store(acc, out + i)
            i += 16
        }
    }

    /// dqkv (overwritten) from dout and the stored probabilities. Per (sequence, head) pair, four small
    /// matrix products on one thread (rows above the diagonal have zero probability and drop out):
    /// dP = dO·Vᵀ, dS = P ⊙ (dP - rowsum(P ⊙ dP)) / sqrt(headSize), dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dO.
    static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probabilities: UnsafePointer<Float>,
        qkv: UnsafePointer<Float>, shape: Shape, pool: ComputePool
    ) {
        let (T, C, hs) = (shape.length, shape.width, shape.headSize)
        let scale = 1 / Float(hs).squareRoot()
        pool.parallelForWorkers(shape.batch * shape.heads) { pairs, worker in
            // The products run inside this worker, on its single-threaded pool.
            let serial = pool.serial(worker)
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
                GEMM.multiplyAccumulate(
                    m: T, n: T, k: hs, a: d, b: StridedMatrix(base: v.base, rowStride: 1, columnStride: 3 * C),
                    c: gradient, ldc: T, start: .zero, pool: serial)
                for t in 0..<T {
                    let pt = p + t * T
                    let gt = gradient + t * T
                    let expected = Reduction.dot(pt, gt, t + 1)
                    for j in 0...t { gt[j] = pt[j] * (gt[j] - expected) * scale }
                    for j in (t + 1)..<T { gt[j] = 0 }
                }
                GEMM.multiplyAccumulate(
                    m: T, n: hs, k: T, a: .rowMajor(gradient, columns: T), b: k, c: dq, ldc: 3 * C, start: .zero,
                    pool: serial)
                GEMM.multiplyAccumulate(
                    m: T, n: hs, k: T, a: .transposed(gradient, columns: T), b: q, c: dq + C, ldc: 3 * C,
                    start: .zero, pool: serial)
                GEMM.multiplyAccumulate(
                    m: T, n: hs, k: T, a: .transposed(p, columns: T), b: d, c: dq + 2 * C, ldc: 3 * C, start: .zero,
                    pool: serial)
            }
        }
    }

    /// Stores the lanes of `scores` that fall below `count`.
    @inline(__always)
    private static func storeScores(_ scores: Vector, _ p: UnsafeMutablePointer<Float>, from j: Int, count: Int) {
        if j + 16 <= count {
            store(scores, p + j)
        } else {
            for lane in 0..<(count - j) { p[j + lane] = scores[lane] }
        }
    }

}

extension Attention {
    /// Eight FMA chains in registers, four rows (a–d) by two vectors (0, 1): the tile that both four-row loops
    /// accumulate into, one rank-1 update per step (four query elements by two vectors of keys; four probabilities
    /// by two vectors of values). A struct of vectors that inlining keeps in registers.
    struct FourRowTile {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()

        /// Row a's chains += sa × (v0, v1), and so on for b, c and d: one FMA in each chain.
        @inline(__always)
        mutating func add(_ sa: Float, _ sb: Float, _ sc: Float, _ sd: Float, times v0: Vector, _ v1: Vector) {
            let (pa, pb, pc, pd) = (
                Vector(repeating: sa), Vector(repeating: sb), Vector(repeating: sc), Vector(repeating: sd)
            )
            a0 = a0.addingProduct(pa, v0)
            a1 = a1.addingProduct(pa, v1)
            b0 = b0.addingProduct(pb, v0)
            b1 = b1.addingProduct(pb, v1)
            c0 = c0.addingProduct(pc, v0)
            c1 = c1.addingProduct(pc, v1)
            d0 = d0.addingProduct(pd, v0)
            d1 = d1.addingProduct(pd, v1)
        }
    }
}
