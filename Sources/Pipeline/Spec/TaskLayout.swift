/// Constants shared by every task family's sequence layout.
enum TaskLayout {
    /// Every problem has this many step slots; a level decides how many of them are non-trivial.
    static let slots = 10

    /// C(slots, k) · values^k, saturating: the ways to place k non-zero operands, each one of `values`, in the
    /// slots — how many problems an arithmetic family's level has (`TaskFamily.distinctProblems`).
    static func placements(of k: Int, values: Int) -> Int {
        var count = 1
        for i in 0..<k {
            // C(n, i + 1) = C(n, i) · (n − i) / (i + 1), exact at every step.
            count = count * (slots - i) / (i + 1)
        }
        for _ in 0..<k { count = count.saturatingProduct(values) }
        return count
    }
}

extension Int {
    /// The product, or `Int.max` where it would overflow: problem counts only need to be compared with split sizes.
    func saturatingProduct(_ other: Int) -> Int {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }
}
