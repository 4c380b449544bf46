internal import CTargetFeatures

/// A read-only matrix seen through strides, so one kernel serves A·B, A·Bᵀ and Aᵀ·B without
/// materializing transposes: element (row, column) is `base[row * rowStride + column * columnStride]`.
struct StridedMatrix {
    var base: UnsafePointer<Float>
    var rowStride: Int
    var columnStride: Int

    /// A row-major matrix with `columns` columns.
    static func rowMajor(_ base: UnsafePointer<Float>, columns: Int) -> StridedMatrix {
        StridedMatrix(base: base, rowStride: columns, columnStride: 1)
    }

    /// The transpose of a row-major matrix with `columns` columns.
    static func transposed(_ base: UnsafePointer<Float>, columns: Int) -> StridedMatrix {
        StridedMatrix(base: base, rowStride: 1, columnStride: columns)
    }

    @inline(__always)
    subscript(row: Int, column: Int) -> Float { base[row * rowStride + column * columnStride] }
}

/// The GEMM's register tile: which lanes evaluate which chains, never a chain's arithmetic, so every tile gives the
/// same bits (`GEMMTests` runs both on every machine); `e2h-bench gemm` measures the other one beside this build's.
public enum RegisterTile: String, CaseIterable, Sendable {
    /// 8×32 in 16 accumulators of 16 lanes: zmm0–15 of AVX-512's 32 registers.
    case wide
    /// 6×32 as two 6×16 halves of 12 accumulators of 8 lanes, for AVX2's 16 registers, where 8×32 would need 32
    /// accumulators and spill every step.
    case narrow

    /// This build's: wide only where its code may use AVX-512 (`-target-cpu`, read through a C macro), never
    /// decided by the machine that runs it.
    public static let native = forBuild(avx512: E2H_TARGET_AVX512F != 0)

    /// A function, not a ternary on the macro: the compiler would flag the branch a build never takes.
    static func forBuild(avx512: Bool) -> RegisterTile { avx512 ? .wide : .narrow }

    var rows: Int { self == .wide ? 8 : 6 }
}

/// Matrix multiplication with a fixed arithmetic per output element:
///
///     C[i, j] = fma(A[i, K-1], B[K-1, j], ... fma(A[i, 1], B[1, j], fma(A[i, 0], B[0, j], C[i, j])))
///
/// i.e. one fused multiply-add chain in increasing p, starting from C's current value (callers
/// preset C to zero, to a bias, or leave a gradient to accumulate into). Tiling, packing, SIMD width
/// and the thread split only decide *who* evaluates a chain and when, never its order, so the result
/// is identical for every thread count, for any M (a sampled batch of 1 row or a training batch of
/// 4096), and on any machine with IEEE fma.
enum GEMM {
    typealias Vector = SIMD16<Float>
    static let tileColumns = 32
    /// Depth of one pass over a packed panel: 256 x 32 floats of B (32 KiB) stay in L1/L2.
    static let depthBlock = 256

    /// What each chain of C starts from.
    enum Start {
        /// C's current value (accumulate into it).
        case accumulate
        /// Zero (overwrite C).
        case zero
        /// row[j] for every row of C (overwrite C with bias + A·B).
        case row(UnsafePointer<Float>)
    }

    /// B[K x N] as panels of 32 columns: panel j holds B[p, 32j..<32j+32] for every p, rows `stride`
    /// apart. A row-major B with unit column stride is read in place for its full panels (unless its rows are a
    /// multiple of 1 KiB apart); other panels (a transposed B, a partial last panel) are packed, zero-padded, with
    /// stride 32.
    struct PackedPanels {
        var base: UnsafePointer<Float>
        var k: Int
        var n: Int
        /// Panels 0..<inPlacePanels are read from `inPlace` (row stride `inPlaceStride`); `base` holds
        /// panels from `inPlacePanels` on.
        var inPlace: UnsafePointer<Float>? = nil
        var inPlaceStride = 0
        var inPlacePanels = 0
        var panels: Int { (n + tileColumns - 1) / tileColumns }

        static func storage(k: Int, n: Int) -> Int { (n + tileColumns - 1) / tileColumns * k * tileColumns }

        @inline(__always)
        func panel(_ j: Int, depthFrom p0: Int) -> (base: UnsafePointer<Float>, stride: Int) {
            if j < inPlacePanels, let inPlace { return (inPlace + p0 * inPlaceStride + j * tileColumns, inPlaceStride) }
            return (base + (j - inPlacePanels) * k * tileColumns + p0 * tileColumns, tileColumns)
        }
    }

    /// Packs `b` into `storage` (of `PackedPanels.storage(k:n:)` floats).
    static func pack(
        _ b: StridedMatrix, k: Int, n: Int, into storage: UnsafeMutablePointer<Float>, pool: ComputePool
    ) -> PackedPanels {
        let packed = PackedPanels(base: storage, k: k, n: n)
        pool.parallelFor(packed.panels) { range in
            for panel in range { packPanel(b, panel: panel, n: n, k: k, into: storage + panel * k * tileColumns) }
        }
        return packed
    }

    /// C[M x N] (row-major, leading dimension `ldc`) accumulates A[M x K] · B[K x N].
    static func multiplyAccumulate(
        m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix,
        c: UnsafeMutablePointer<Float>, ldc: Int, start: Start = .accumulate, tile kernel: RegisterTile = .native,
        pool: ComputePool
    ) {
        guard m > 0, n > 0 else { return }
        let packed: PackedPanels
        // In place unless B's rows are a multiple of 1 KiB apart: then a panel's rows map to a few sets of L1
        // (4 KiB per way) and evict each other — a 512-wide B ran at 0.59x numpy in place on an AVX2 machine.
        if b.columnStride == 1 && b.rowStride % 256 != 0 {
            let full = n / tileColumns
            let storage = pool.scratch(0, count: k * tileColumns)
            if full * tileColumns < n { packPanel(b, panel: full, n: n, k: k, into: storage) }
            packed = PackedPanels(
                base: storage, k: k, n: n, inPlace: b.base, inPlaceStride: b.rowStride, inPlacePanels: full)
        } else {
            packed = pack(b, k: k, n: n, into: pool.scratch(0, count: PackedPanels.storage(k: k, n: n)), pool: pool)
        }
        multiplyAccumulate(m: m, a: a, b: packed, c: c, ldc: ldc, start: start, tile: kernel, pool: pool)
    }

    /// C[M x N] accumulates A[M x K] · B with B already packed (weights reused across calls).
    static func multiplyAccumulate(
        m: Int, a: StridedMatrix, b packed: PackedPanels, c: UnsafeMutablePointer<Float>, ldc: Int,
        start: Start = .accumulate, tile kernel: RegisterTile = .native, pool: ComputePool
    ) {
        let (n, k) = (packed.n, packed.k)
        let tileRows = kernel.rows
        guard m > 0, n > 0 else { return }
        if k == 0 {
            initialize(c, rows: m, columns: n, ldc: ldc, start: start)
            return
        }
        let panels = packed.panels
        let rowTiles = (m + tileRows - 1) / tileRows
        let tasks = rowTiles * panels
        pool.parallelForWorkers(tasks) { range, worker in
            let scratch = pool.scratch(1 + worker, count: tileRows * depthBlock + tileRows * tileColumns)
            let packedA = scratch
            let edge = scratch + tileRows * depthBlock
            var p0 = 0
            while p0 < k {
                let depth = min(depthBlock, k - p0)
                var packedRowTile = -1
                for task in range {
                    let rowTile = task / panels
                    let panel = task % panels
                    let i0 = rowTile * tileRows
                    let j0 = panel * tileColumns
                    let rows = min(tileRows, m - i0)
                    let columns = min(tileColumns, n - j0)
                    // Full row tiles read A in place (a broadcast per row and depth step, from tileRows rows or
                    // one contiguous run); only a partial tile is copied out, zero-padded to tileRows rows.
                    var tileA = StridedMatrix(
                        base: a.base + i0 * a.rowStride + p0 * a.columnStride, rowStride: a.rowStride,
                        columnStride: a.columnStride)
                    if rows < tileRows {
                        if rowTile != packedRowTile {
                            packRows(
                                a, from: i0, rows: rows, of: tileRows, depthFrom: p0, depth: depth, into: packedA)
                            packedRowTile = rowTile
                        }
                        tileA = StridedMatrix(base: packedA, rowStride: 1, columnStride: tileRows)
                    }
                    let panelB = packed.panel(panel, depthFrom: p0)
                    let target = c + i0 * ldc + j0
                    // The first depth block starts the chains (from C, zero or the row); later ones continue them.
                    let first = p0 == 0
                    if rows == tileRows && columns == tileColumns {
                        var initial: (Vector, Vector)?
                        if first {
                            switch start {
                            case .accumulate: initial = nil
                            case .zero: initial = (Vector(), Vector())
                            case .row(let row): initial = (load(row + j0), load(row + j0 + 16))
                            }
                        }
                        tile(
                            kernel, depth: depth, a: tileA, b: panelB.base, bStride: panelB.stride, c: target,
                            ldc: ldc, initial: initial)
                    } else {
                        // Partial tiles run the same kernel on a padded copy; padding lanes are discarded.
                        edge.initialize(repeating: 0, count: tileRows * tileColumns)
                        if first && !start.isAccumulate {
                            initialize(edge, rows: rows, columns: columns, ldc: tileColumns, start: start, from: j0)
                        } else {
                            for r in 0..<rows {
                                (edge + r * tileColumns).update(from: target + r * ldc, count: columns)
                            }
                        }
                        tile(
                            kernel, depth: depth, a: tileA, b: panelB.base, bStride: panelB.stride, c: edge,
                            ldc: tileColumns, initial: nil)
                        for r in 0..<rows {
                            (target + r * ldc).update(from: edge + r * tileColumns, count: columns)
                        }
                    }
                }
                p0 += depth
            }
        }
    }

    /// Sets C (rows x columns) to the start value, taking row entries from column `j0` on.
    private static func initialize(
        _ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, start: Start, from j0: Int = 0
    ) {
        for r in 0..<rows {
            switch start {
            case .accumulate: return
            case .zero: (c + r * ldc).update(repeating: 0, count: columns)
            case .row(let row): (c + r * ldc).update(from: row + j0, count: columns)
            }
        }
    }

    private static func packPanel(_ b: StridedMatrix, panel: Int, n: Int, k: Int, into out: UnsafeMutablePointer<Float>)
    {
        let j0 = panel * tileColumns
        let columns = min(tileColumns, n - j0)
        if b.columnStride == 1 {
            for p in 0..<k {
                let row = out + p * tileColumns
                row.update(from: b.base + p * b.rowStride + j0, count: columns)
                if columns < tileColumns { (row + columns).initialize(repeating: 0, count: tileColumns - columns) }
            }
        } else {
            for p in 0..<k {
                let row = out + p * tileColumns
                for j in 0..<columns { row[j] = b[p, j0 + j] }
                if columns < tileColumns { (row + columns).initialize(repeating: 0, count: tileColumns - columns) }
            }
        }
    }

    /// packed[p][r] = A[i0 + r, p0 + p] for r < tileRows, zero for rows past the matrix.
    private static func packRows(
        _ a: StridedMatrix, from i0: Int, rows: Int, of tileRows: Int, depthFrom p0: Int, depth: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        if rows < tileRows { out.initialize(repeating: 0, count: tileRows * depth) }
        for r in 0..<rows {
            let source = a.base + (i0 + r) * a.rowStride + p0 * a.columnStride
            let stride = a.columnStride
            for p in 0..<depth { out[p * tileRows + r] = source[p * stride] }
        }
    }

    /// One tile of C (`kernel.rows`×32) continued over `depth` steps, starting from `initial` (both halves of a row's
    /// 32 start values) or, when nil, from C.
    @inline(__always)
    private static func tile(
        _ kernel: RegisterTile, depth: Int, a: StridedMatrix, b: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, initial: (Vector, Vector)?
    ) {
        if kernel == .wide {
            wideTile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, initial: initial)
        } else {
            narrowTile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, initial: initial.map { $0.0 })
            narrowTile(
                depth: depth, a: a, b: b + 16, bStride: bStride, c: c + 16, ldc: ldc, initial: initial.map { $0.1 })
        }
    }

    /// The 6×16 register tile of an AVX2 build: 12 accumulators of 8 lanes; per depth step six broadcasts of A and
    /// two loads of B feed 12 FMAs. Each lane's chain is sequential in p, as in the wide tile.
    @inline(__always)
    private static func narrowTile(
        depth: Int, a: StridedMatrix, b: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        initial: Vector?
    ) {
        typealias Half = SIMD8<Float>
        var c00 = initial?.lowHalf ?? loadEight(c + 0 * ldc)
        var c01 = initial?.highHalf ?? loadEight(c + 0 * ldc + 8)
        var c10 = initial?.lowHalf ?? loadEight(c + 1 * ldc)
        var c11 = initial?.highHalf ?? loadEight(c + 1 * ldc + 8)
        var c20 = initial?.lowHalf ?? loadEight(c + 2 * ldc)
        var c21 = initial?.highHalf ?? loadEight(c + 2 * ldc + 8)
        var c30 = initial?.lowHalf ?? loadEight(c + 3 * ldc)
        var c31 = initial?.highHalf ?? loadEight(c + 3 * ldc + 8)
        var c40 = initial?.lowHalf ?? loadEight(c + 4 * ldc)
        var c41 = initial?.highHalf ?? loadEight(c + 4 * ldc + 8)
        var c50 = initial?.lowHalf ?? loadEight(c + 5 * ldc)
        var c51 = initial?.highHalf ?? loadEight(c + 5 * ldc + 8)
        let (rs, cs) = (a.rowStride, a.columnStride)
        var pa = a.base
        var pb = b
        for _ in 0..<depth {
            let b0 = loadEight(pb)
            let b1 = loadEight(pb + 8)
            let a0 = Half(repeating: pa[0 * rs])
            c00 = c00.addingProduct(a0, b0)
            c01 = c01.addingProduct(a0, b1)
            let a1 = Half(repeating: pa[1 * rs])
            c10 = c10.addingProduct(a1, b0)
            c11 = c11.addingProduct(a1, b1)
            let a2 = Half(repeating: pa[2 * rs])
            c20 = c20.addingProduct(a2, b0)
            c21 = c21.addingProduct(a2, b1)
            let a3 = Half(repeating: pa[3 * rs])
            c30 = c30.addingProduct(a3, b0)
            c31 = c31.addingProduct(a3, b1)
            let a4 = Half(repeating: pa[4 * rs])
            c40 = c40.addingProduct(a4, b0)
            c41 = c41.addingProduct(a4, b1)
            let a5 = Half(repeating: pa[5 * rs])
            c50 = c50.addingProduct(a5, b0)
            c51 = c51.addingProduct(a5, b1)
            pa += cs
            pb += bStride
        }
        store(c00, c + 0 * ldc)
        store(c01, c + 0 * ldc + 8)
        store(c10, c + 1 * ldc)
        store(c11, c + 1 * ldc + 8)
        store(c20, c + 2 * ldc)
        store(c21, c + 2 * ldc + 8)
        store(c30, c + 3 * ldc)
        store(c31, c + 3 * ldc + 8)
        store(c40, c + 4 * ldc)
        store(c41, c + 4 * ldc + 8)
        store(c50, c + 5 * ldc)
        store(c51, c + 5 * ldc + 8)
    }

    /// The 8×32 register tile of an AVX-512 build: 16 accumulators of 16 lanes; per depth step eight broadcasts of A
    /// and two loads of B feed 16 FMAs. Each lane's chain is sequential in p, exactly like the scalar definition.
    @inline(__always)
    private static func wideTile(
        depth: Int, a: StridedMatrix, b: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        initial: (Vector, Vector)?
    ) {
        var c00 = initial?.0 ?? load(c + 0 * ldc)
        var c01 = initial?.1 ?? load(c + 0 * ldc + 16)
        var c10 = initial?.0 ?? load(c + 1 * ldc)
        var c11 = initial?.1 ?? load(c + 1 * ldc + 16)
        var c20 = initial?.0 ?? load(c + 2 * ldc)
        var c21 = initial?.1 ?? load(c + 2 * ldc + 16)
        var c30 = initial?.0 ?? load(c + 3 * ldc)
        var c31 = initial?.1 ?? load(c + 3 * ldc + 16)
        var c40 = initial?.0 ?? load(c + 4 * ldc)
        var c41 = initial?.1 ?? load(c + 4 * ldc + 16)
        var c50 = initial?.0 ?? load(c + 5 * ldc)
        var c51 = initial?.1 ?? load(c + 5 * ldc + 16)
        var c60 = initial?.0 ?? load(c + 6 * ldc)
        var c61 = initial?.1 ?? load(c + 6 * ldc + 16)
        var c70 = initial?.0 ?? load(c + 7 * ldc)
        var c71 = initial?.1 ?? load(c + 7 * ldc + 16)
        let (rs, cs) = (a.rowStride, a.columnStride)
        var pa = a.base
        var pb = b
        for _ in 0..<depth {
            let b0 = load(pb)
            let b1 = load(pb + 16)
            let a0 = Vector(repeating: pa[0 * rs])
            c00 = c00.addingProduct(a0, b0)
            c01 = c01.addingProduct(a0, b1)
            let a1 = Vector(repeating: pa[1 * rs])
            c10 = c10.addingProduct(a1, b0)
            c11 = c11.addingProduct(a1, b1)
            let a2 = Vector(repeating: pa[2 * rs])
            c20 = c20.addingProduct(a2, b0)
            c21 = c21.addingProduct(a2, b1)
            let a3 = Vector(repeating: pa[3 * rs])
            c30 = c30.addingProduct(a3, b0)
            c31 = c31.addingProduct(a3, b1)
            let a4 = Vector(repeating: pa[4 * rs])
            c40 = c40.addingProduct(a4, b0)
            c41 = c41.addingProduct(a4, b1)
            let a5 = Vector(repeating: pa[5 * rs])
            c50 = c50.addingProduct(a5, b0)
            c51 = c51.addingProduct(a5, b1)
            let a6 = Vector(repeating: pa[6 * rs])
            c60 = c60.addingProduct(a6, b0)
            c61 = c61.addingProduct(a6, b1)
            let a7 = Vector(repeating: pa[7 * rs])
            c70 = c70.addingProduct(a7, b0)
            c71 = c71.addingProduct(a7, b1)
            pa += cs
            pb += bStride
        }
        store(c00, c + 0 * ldc)
        store(c01, c + 0 * ldc + 16)
        store(c10, c + 1 * ldc)
        store(c11, c + 1 * ldc + 16)
        store(c20, c + 2 * ldc)
        store(c21, c + 2 * ldc + 16)
        store(c30, c + 3 * ldc)
        store(c31, c + 3 * ldc + 16)
        store(c40, c + 4 * ldc)
        store(c41, c + 4 * ldc + 16)
        store(c50, c + 5 * ldc)
        store(c51, c + 5 * ldc + 16)
        store(c60, c + 6 * ldc)
        store(c61, c + 6 * ldc + 16)
        store(c70, c + 7 * ldc)
        store(c71, c + 7 * ldc + 16)
    }
}

extension GEMM.Start {
    var isAccumulate: Bool {
        if case .accumulate = self { return true }
        return false
    }
}
