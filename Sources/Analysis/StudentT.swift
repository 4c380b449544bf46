import Foundation

/// Quantiles of Student's t distribution, for intervals across a handful of seeds.
enum StudentT {
    /// t such that P(T ≤ t) = `probability` (in (0.5, 1)) with `degreesOfFreedom` ≥ 1. At 0.975, the table and
    /// expansion below (the figure every 95 % interval uses, unchanged); elsewhere the exact distribution function
    /// (`twoSidedMass`) inverted by bisection to Double's resolution.
    static func quantile(_ probability: Double, degreesOfFreedom df: Int) -> Double {
        precondition(probability > 0.5 && probability < 1 && df >= 1)
        if probability == 0.975 { return quantile975(degreesOfFreedom: df) }
        let target = 2 * probability - 1
        var (low, high) = (0.0, 1.0)
        while twoSidedMass(high, degreesOfFreedom: df) < target { (low, high) = (high, 2 * high) }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if twoSidedMass(middle, degreesOfFreedom: df) < target { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// P(|T| ≤ t) for t ≥ 0 and a whole number of degrees of freedom ν: with θ = atan(t/√ν), the finite series of
    /// Abramowitz & Stegun 26.7.3–4 — for odd ν, (2/π)(θ + sin θ (cos θ + ⅔ cos³θ + … )), for even ν,
    /// sin θ (1 + ½ cos²θ + (1·3)/(2·4) cos⁴θ + … ), each to the power ν − 2.
    static func twoSidedMass(_ t: Double, degreesOfFreedom df: Int) -> Double {
        let theta = atan(t / Double(df).squareRoot())
        let (sine, cosine) = (sin(theta), cos(theta))
        let cosine2 = cosine * cosine
        if df % 2 == 1 {
            guard df > 1 else { return 2 * theta / .pi }
            var term = cosine
            var sum = term
            for power in stride(from: 3, through: df - 2, by: 2) {
                term *= cosine2 * Double(power - 1) / Double(power)
                sum += term
            }
            return 2 / .pi * (theta + sine * sum)
        }
        var term = 1.0
        var sum = term
        for power in stride(from: 2, through: df - 2, by: 2) {
            term *= cosine2 * Double(power - 1) / Double(power)
            sum += term
        }
        return sine * sum
    }

    /// The 0.975 quantile for 1…30 degrees of freedom (exact to the digits shown; standard tables).
    private static let table975: [Double] = [
        12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
        2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
        2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
        2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
    ]

    /// The normal distribution's 0.975 quantile.
    static let normal975 = 1.959963984540054

    /// t such that P(T ≤ t) = 0.975 with `degreesOfFreedom` ≥ 1: the table up to 30, beyond it the
    /// Cornish–Fisher expansion in 1/ν around the normal quantile (error below 1e-6 from ν = 30 on).
    static func quantile975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1)
        if df <= table975.count { return table975[df - 1] }
        let z = normal975
        let nu = Double(df)
        let z3 = z * z * z
        let z5 = z3 * z * z
        let z7 = z5 * z * z
        let z9 = z7 * z * z
        return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu * nu)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu * nu * nu)
            + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * nu * nu * nu * nu)
    }
}
