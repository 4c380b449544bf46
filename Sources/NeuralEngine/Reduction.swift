/// Sums and dot products in one fixed order: 16 running lane sums over the full chunks, the lanes
/// added as a fixed tree, then the tail left to right. Every path that needs the same quantity (training, scoring,
/// cached sampling) calls these, so they agree to the bit.
enum Reduction {
    typealias Vector = SIMD16<Float>

    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = Vector()
        var i = 0
        while i + 16 <= n {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            i += 16
        }
        var total = collapse(lanes)
        while i < n {
            total += x[i]
            i += 1
        }
        return total
    }

    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = Vector()
        var i = 0
        while i + 16 <= n {
            lanes = lanes.addingProduct(
                UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self),
                UnsafeRawPointer(y + i).loadUnaligned(as: Vector.self))
            i += 16
        }
        var total = collapse(lanes)
        while i < n {
            total = total.addingProduct(x[i], y[i])
            i += 1
        }
        return total
    }

    /// The lanes summed as a fixed tree (halves added pairwise), four dependent adds instead of 16.
    @inline(__always)
    static func collapse(_ lanes: Vector) -> Float {
        let eight = lanes.lowHalf + lanes.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// The largest lane (exact in any order).
    @inline(__always)
    static func maximum(_ lanes: Vector) -> Float {
        var eight = lanes.lowHalf
        eight.replace(with: lanes.highHalf, where: lanes.highHalf .> eight)
        var four = eight.lowHalf
        four.replace(with: eight.highHalf, where: eight.highHalf .> four)
        var result = -Float.infinity
        for lane in 0..<4 where four[lane] > result { result = four[lane] }
        return result
    }
}
