/// exp, tanh, log and cos implemented here rather than taken from the platform's libm, whose
/// results differ between libc versions and would make replays machine-dependent. Only IEEE
/// add/multiply/divide/sqrt and explicit operations are used, so every platform gets the same bits.
/// Accuracy is a few ulp, which is all training and sampling need.
enum Elementary {
    private static let log2e: Float = 1.442_695_04
    private static let ln2High: Float = 0.693_145_751_953_125  // exact in 16 bits: n * ln2High is exact
    private static let ln2Low: Float = 1.428_606_765_330_187e-06

    typealias Vector = SIMD16<Float>

    /// e^x for 16 lanes. Inputs at or below -87.3 give 0 (the subnormal range is not worth its cost
    /// here), inputs above 88 give +infinity. The scalar form runs this same code on one lane, so a
    /// value never depends on which form computed it.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // Only lane-wise IEEE arithmetic, compares and integer bit operations: these compile to
        // straight-line AVX code, where generic conversions (Float -> Int32, rounded(_:)) would not.
        var clamped = x.replacing(with: -87.3, where: x .< -87.3)
        clamped.replace(with: 88, where: clamped .> 88)
        // Adding 1.5 * 2^23 rounds to the nearest integer (ties to even) and leaves that integer in
        // the low mantissa bits: n = shifted - 1.5 * 2^23 exactly, and bits(shifted) = 0x4B400000 + n.
        let shifted = clamped * log2e + roundingShift
        let n = shifted - roundingShift
        let r = (clamped - n * ln2High) - n * ln2Low
        // Taylor polynomial to degree 7: relative error < 1e-8 on |r| <= ln2/2.
        var p = Vector(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let biased = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- (0x4B40_0000 &- 127)
        let scale = unsafeBitCast(biased &<< 23, to: Vector.self)
        var result = p * scale
        result.replace(with: 0, where: x .<= -87.3)
        result.replace(with: .infinity, where: x .> 88)
        return result
    }

    private static let roundingShift: Float = 12_582_912  // 1.5 * 2^23

    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// tanh through exp; absolute error ~1e-7 near 0, which GELU tolerates.
    @inline(__always)
    static func tanh(_ x: Vector) -> Vector {
        let a = x.replacing(with: -x, where: x .< 0)
        let e = exp(2 * a.replacing(with: 9, where: a .> 9))
        var t = 1 - 2 / (e + 1)
        t.replace(with: 1, where: a .> 9)
        t.replace(with: -t, where: x .< 0)
        return t
    }

    @inline(__always)
    static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }

    /// Natural logarithm, computed in Double (it is off the hot paths: once per token in losses).
    static func log(_ x: Float) -> Float { Float(log(Double(x))) }

    static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        var value = x
        var exponent = 0
        if value < Double.leastNormalMagnitude {
            value *= 18_014_398_509_481_984  // 2^54
            exponent = -54
        }
        let bits = value.bitPattern
        exponent += Int((bits >> 52) & 0x7FF) - 1023
        var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        if m > 1.414_213_562_373_095_1 {
            m *= 0.5
            exponent += 1
        }
        // log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: the series to s^21 is exact to Double.
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var series = 1.0 / 21
        var k = 19.0
        while k >= 1 {
            series = series * s2 + 1 / k
            k -= 2
        }
        return Double(exponent) * 0.693_147_180_559_945_3 + 2 * s * series
    }

    /// cos(x) for the learning-rate schedule (x in [0, pi]); range-reduced Taylor series in Double.
    static func cos(_ x: Double) -> Double {
        let pi = 3.141_592_653_589_793
        var a = abs(x).truncatingRemainder(dividingBy: 2 * pi)
        if a > pi { a = 2 * pi - a }
        var sign = 1.0
        if a > pi / 2 {
            a = pi - a
            sign = -1
        }
        let a2 = a * a
        var term = 1.0
        var sum = 1.0
        for n in stride(from: 2, through: 30, by: 2) {
            term *= -a2 / Double(n * (n - 1))
            sum += term
        }
        return sign * sum
    }

    /// log(1 + e^z) without overflow, for binary cross-entropy on logits.
    static func softplus(_ z: Float) -> Float {
        max(z, 0) + log(1 + exp(-abs(z)))
    }

    @inline(__always)
    static func sigmoid(_ z: Float) -> Float {
        if z >= 0 { return 1 / (1 + exp(-z)) }
        let e = exp(z)
        return e / (1 + e)
    }
}
