/// Quantiles of Student's t distribution, for intervals across a handful of seeds.
enum StudentT {
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
