/// Forward and backward passes of the transformer's layers over flat row-major buffers
/// (`rows` = batch x positions). Rows are split across the pool; reductions across rows (parameter
/// gradients) are split by column instead, each column summed over the rows in increasing order,
/// so no result depends on the thread count.
enum Layers {
    static let layerNormEpsilon: Float = 1e-5

    // MARK: Embeddings

    /// out[b, t] = wte[token[b, t]] + wpe[t].
    static func embed(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, batch: Int, length: Int,
        tokenEmbedding: UnsafePointer<Float>, positionEmbedding: UnsafePointer<Float>, width c: Int, pool: ComputePool
    ) {
        pool.parallelFor(batch * length) { rows in
            for row in rows {
                let t = row % length
                let token = Int(tokens[row])
                let o = out + row * c
                let e = tokenEmbedding + token * c
                let p = positionEmbedding + t * c
                for i in 0..<c { o[i] = e[i] + p[i] }
            }
        }
    }

    static func embedBackward(
        tokenGradient: UnsafeMutablePointer<Float>, positionGradient: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, batch: Int, length: Int, width c: Int,
        pool: ComputePool
    ) {
        pool.parallelFor(c) { columns in
            for row in 0..<(batch * length) {
                let t = row % length
                let token = Int(tokens[row])
                let d = dout + row * c
                let e = tokenGradient + token * c
                let p = positionGradient + t * c
                for i in columns {
                    e[i] += d[i]
                    p[i] += d[i]
                }
            }
        }
    }

    // MARK: LayerNorm

    static func layerNorm(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, width c: Int,
        pool: ComputePool
    ) {
        pool.parallelFor(rows) { range in
            for row in range {
                layerNormRow(
                    out: out + row * c, mean: mean + row, rstd: rstd + row, input: input + row * c, weight: weight,
                    bias: bias, width: c)
            }
        }
    }

    @inline(__always)
    static func layerNormRow(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, width c: Int
    ) {
        let m = Reduction.sum(x, c) / Float(c)
        // Centered values go through `out` so the variance is a fixed-order dot product.
        for i in 0..<c { out[i] = x[i] - m }
        let variance = Reduction.dot(out, out, c) / Float(c)
        let s = 1 / (variance + layerNormEpsilon).squareRoot()
        for i in 0..<c { out[i] = out[i] * s * weight[i] + bias[i] }
        mean.pointee = m
        rstd.pointee = s
    }

    /// dinput += LayerNorm'ᵀ dout; dweight, dbias += their row sums. `scratch` holds rows x width.
    static func layerNormBackward(
        dinput: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, width c: Int,
        scratch normalized: UnsafeMutablePointer<Float>, pool: ComputePool
    ) {
        pool.parallelFor(rows) { range in
            let scaled = UnsafeMutablePointer<Float>.allocate(capacity: c)
            defer { scaled.deallocate() }
            for row in range {
                let x = input + row * c
                let d = dout + row * c
                let n = normalized + row * c
                let m = mean[row]
                let s = rstd[row]
                for i in 0..<c {
                    n[i] = (x[i] - m) * s
                    scaled[i] = weight[i] * d[i]
                }
                let meanScaled = Reduction.sum(scaled, c) / Float(c)
                let meanScaledNormalized = Reduction.dot(scaled, n, c) / Float(c)
                let di = dinput + row * c
                for i in 0..<c {
                    di[i] += (scaled[i] - meanScaled - n[i] * meanScaledNormalized) * s
                }
            }
        }
        pool.parallelFor(c) { columns in
            for row in 0..<rows {
                let d = dout + row * c
                let n = normalized + row * c
                for i in columns {
                    dweight[i] += n[i] * d[i]
                    dbias[i] += d[i]
                }
            }
        }
    }

    // MARK: Linear (matmul + bias)

    /// out[rows x n] = input[rows x k] · weightᵀ + bias, with weight stored n x k (PyTorch's layout).
    /// `packed` is the same weight already packed (see `PackedWeights`), to skip packing it per call.
    static func linear(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, rows: Int, inputWidth k: Int, outputWidth n: Int, packed: GEMM.PackedPanels? = nil,
        pool: ComputePool
    ) {
        let start: GEMM.Start = bias.map { .row($0) } ?? .zero
        if let packed {
            GEMM.multiplyAccumulate(
                m: rows, a: .rowMajor(input, columns: k), b: packed, c: out, ldc: n, start: start, pool: pool)
        } else {
            GEMM.multiplyAccumulate(
                m: rows, n: n, k: k, a: .rowMajor(input, columns: k), b: .transposed(weight, columns: k), c: out,
                ldc: n, start: start, pool: pool)
        }
    }

    /// dinput = dout · weight (overwritten), dweight += doutᵀ · input, dbias += column sums of dout.
    static func linearBackward(
        dinput: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int,
        inputWidth k: Int, outputWidth n: Int, pool: ComputePool
    ) {
        if let dinput {
            GEMM.multiplyAccumulate(
                m: rows, n: k, k: n, a: .rowMajor(dout, columns: n), b: .rowMajor(weight, columns: k), c: dinput,
                ldc: k, start: .zero, pool: pool)
        }
        GEMM.multiplyAccumulate(
            m: n, n: k, k: rows, a: .transposed(dout, columns: n), b: .rowMajor(input, columns: k), c: dweight, ldc: k,
            pool: pool)
        if let dbias { columnSums(into: dbias, of: dout, rows: rows, columns: n, pool: pool) }
    }

    /// out[j] += Σ_rows x[row, j], rows in increasing order.
    static func columnSums(
        into out: UnsafeMutablePointer<Float>, of x: UnsafePointer<Float>, rows: Int, columns n: Int, pool: ComputePool
    ) {
        pool.parallelFor(n) { columns in
            for row in 0..<rows {
                let r = x + row * n
                for j in columns { out[j] += r[j] }
            }
        }
    }

    // MARK: Residual and GELU

    /// out = a + b, elementwise.
    static func add(
        out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int,
        pool: ComputePool
    ) {
        pool.parallelFor((count + 4095) / 4096) { chunks in
            let range = (chunks.lowerBound * 4096)..<min(count, chunks.upperBound * 4096)
            for i in range { out[i] = a[i] + b[i] }
        }
    }

    private static let geluScale: Float = 0.797_884_560_802_865_4  // sqrt(2/pi)

    /// GELU, tanh form: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), computed as
    /// x / (1 + e^(-2u)) (the same function: 0.5 (1 + tanh u) = sigmoid(2u)) with one exp.
    static func gelu(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int, pool: ComputePool) {
        mapVectors(GELU.self, out: out, input, input, count: count, pool: pool)
    }

    /// d/dx [x s] = s + x s (1 - s) 2 du/dx, with s = sigmoid(2u).
    static func geluBackward(
        dinput: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int,
        pool: ComputePool
    ) {
        mapVectors(GELUBackward.self, out: dinput, input, dout, count: count, pool: pool)
    }

    /// A lane-wise function of two vectors, as a type rather than a closure: `mapVectors` specialised for it calls
    /// `apply` directly and inlines it, so its vectors stay in registers from load to store. (Through a closure,
    /// each call passed and returned a vector in four 128-bit pieces: GELU took a fifth of scoring's time.)
    private protocol LaneMap {
        static func apply(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float>
    }

    private enum GELU: LaneMap {
        @inline(__always)
        static func apply(_ x: SIMD16<Float>, _: SIMD16<Float>) -> SIMD16<Float> {
            let u = geluScale * (x + 0.044715 * x * x * x)
            return x / (1 + Elementary.exp(-2 * u))
        }
    }

    private enum GELUBackward: LaneMap {
        @inline(__always)
        static func apply(_ x: SIMD16<Float>, _ d: SIMD16<Float>) -> SIMD16<Float> {
            let u = geluScale * (x + 0.044715 * x * x * x)
            let s = 1 / (1 + Elementary.exp(-2 * u))
            let du = geluScale * (1 + 3 * 0.044715 * x * x)
            return (s + x * s * (1 - s) * 2 * du) * d
        }
    }

    /// out[i] = f(a[i], b[i]) sixteen lanes at a time; the last partial vector runs on a zero-padded
    /// copy (lanes are independent, so its valid lanes get the same bits as anywhere else).
    @inline(__always)
    private static func mapVectors<F: LaneMap>(
        _ f: F.Type, out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        count: Int, pool: ComputePool
    ) {
        let vectors = (count + 15) / 16
        pool.parallelFor((vectors + 255) / 256) { chunks in
            for v in (chunks.lowerBound * 256)..<min(vectors, chunks.upperBound * 256) {
                let offset = v * 16
                let valid = min(16, count - offset)
                if valid == 16 {
                    store(F.apply(load(a + offset), load(b + offset)), out + offset)
                } else {
                    var x = SIMD16<Float>()
                    var y = SIMD16<Float>()
                    for lane in 0..<valid {
                        x[lane] = a[offset + lane]
                        y[lane] = b[offset + lane]
                    }
                    let result = F.apply(x, y)
                    for lane in 0..<valid { out[offset + lane] = result[lane] }
                }
            }
        }
    }

}
