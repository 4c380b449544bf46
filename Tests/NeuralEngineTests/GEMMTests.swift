import Foundation
import Testing

@testable import NeuralEngine

@Suite struct GEMMTests {
    /// The defining arithmetic: one fma chain per element, in increasing p, from C's initial value.
    static func reference(m: Int, n: Int, k: Int, a: [Float], b: [Float], c: [Float]) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var acc = c[i * n + j]
                for p in 0..<k { acc = acc.addingProduct(a[i * k + p], b[p * n + j]) }
                out[i * n + j] = acc
            }
        }
        return out
    }

    @Test(arguments: [(1, 1, 1), (8, 32, 16), (13, 45, 300), (33, 7, 513), (64, 96, 128), (5, 130, 20)])
    func matchesTheFmaChainBitForBit(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = Fixtures.randomArray(m * k, seed: 1)
        let b = Fixtures.randomArray(k * n, seed: 2)
        let c = Fixtures.randomArray(m * n, seed: 3)
        let expected = Self.reference(m: m, n: n, k: k, a: a, b: b, c: c)
        // Both register tiles on every machine: a build runs its own fast and the other one slowly, same bits.
        for tile in RegisterTile.allCases {
            for threads in [1, 2] {
                var out = c
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        out.withUnsafeMutableBufferPointer { pc in
                            GEMM.multiplyAccumulate(
                                m: m, n: n, k: k, a: .rowMajor(pa.baseAddress!, columns: k),
                                b: .rowMajor(pb.baseAddress!, columns: n), c: pc.baseAddress!, ldc: n, tile: tile,
                                pool: ComputePool(threads: threads))
                        }
                    }
                }
                #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "\(tile) tile, threads \(threads)")
            }
        }
    }

    /// The C macro that picks the tile follows the engine's `-target-cpu`: a native build (the default) on a CPU
    /// without AVX-512 must take the narrow tile, and on one with it the wide tile.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["E2H_TARGET_CPU", default: ""].isEmpty))
    func aNativeBuildTakesTheTileOfItsCPU() {
        let avx512 = CPUDescription.current.flags.contains("avx512f")
        #expect(RegisterTile.native == (avx512 ? .wide : .narrow), "\(CPUDescription.current.model)")
    }

    @Test func transposedOperandsMatchExplicitTransposes() {
        let (m, n, k) = (19, 40, 23)
        let aT = Fixtures.randomArray(k * m, seed: 4)  // stored k x m
        let bT = Fixtures.randomArray(n * k, seed: 5)  // stored n x k
        let a = (0..<(m * k)).map { aT[($0 % k) * m + $0 / k] }
        let b = (0..<(k * n)).map { bT[($0 % n) * k + $0 / n] }
        let expected = Self.reference(m: m, n: n, k: k, a: a, b: b, c: [Float](repeating: 0, count: m * n))
        for tile in RegisterTile.allCases {
            var out = [Float](repeating: 0, count: m * n)
            aT.withUnsafeBufferPointer { pa in
                bT.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        GEMM.multiplyAccumulate(
                            m: m, n: n, k: k, a: .transposed(pa.baseAddress!, columns: m),
                            b: .transposed(pb.baseAddress!, columns: k), c: pc.baseAddress!, ldc: n, tile: tile,
                            pool: ComputePool(threads: 2))
                    }
                }
            }
            #expect(out.map(\.bitPattern) == expected.map(\.bitPattern), "\(tile) tile")
        }
    }

    /// Starting the chains from zero or from a row vector gives the same bits as presetting C.
    @Test(arguments: [(16, 64, 300), (13, 45, 7), (5, 3, 0)])
    func startModesMatchPresetOutputs(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = Fixtures.randomArray(m * k, seed: 6)
        let b = Fixtures.randomArray(k * n, seed: 7)
        let row = Fixtures.randomArray(n, seed: 8)
        let garbage = Fixtures.randomArray(m * n, seed: 9, scale: 1e6)
        let pool = ComputePool(threads: 2)
        func product(start: GEMM.Start, initial: [Float], tile: RegisterTile) -> [UInt32] {
            var out = initial
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        GEMM.multiplyAccumulate(
                            m: m, n: n, k: k, a: .rowMajor(pa.baseAddress!, columns: k),
                            b: .rowMajor(pb.baseAddress!, columns: n), c: pc.baseAddress!, ldc: n, start: start,
                            tile: tile, pool: pool)
                    }
                }
            }
            return out.map(\.bitPattern)
        }
        let zeros = [Float](repeating: 0, count: m * n)
        let rows = (0..<(m * n)).map { row[$0 % n] }
        for tile in RegisterTile.allCases {
            #expect(
                product(start: .zero, initial: garbage, tile: tile)
                    == product(start: .accumulate, initial: zeros, tile: tile))
            row.withUnsafeBufferPointer { r in
                #expect(
                    product(start: .row(r.baseAddress!), initial: garbage, tile: tile)
                        == product(start: .accumulate, initial: rows, tile: tile))
            }
            #expect(
                product(start: .zero, initial: garbage, tile: tile)
                    == product(start: .zero, initial: garbage, tile: .native))
        }
    }
}
