/// Sums and dot products in one fixed order: 16 running lane sums over the full chunks, the lanes
/// added left to right, then the tail. Every path that needs the same quantity (training, scoring,
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

    @inline(__always)
    static func collapse(_ lanes: Vector) -> Float {
        var total: Float = 0
        for lane in 0..<16 { total += lanes[lane] }
        return total
    }
}
