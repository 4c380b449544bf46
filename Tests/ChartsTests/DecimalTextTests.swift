import Testing

@testable import Charts

@Test(arguments: [
    (0.0, 2, "0"), (-0.0, 2, "0"), (-0.001, 2, "0"), (1.5, 2, "1.5"), (1.005, 2, "1"), (2.675, 2, "2.68"),
    (-12.345, 1, "-12.3"), (0.125, 2, "0.13"), (1234567.0, 0, "1234567"), (0.3, 9, "0.3"), (100.0, 2, "100"),
    (0.07, 3, "0.07"), (-0.5, 0, "-1"),
])
func decimalTextIsFixedAndTrimmed(value: Double, decimals: Int, expected: String) {
    #expect(DecimalText.format(value, maximumDecimals: decimals) == expected)
}

@Test func hugeNumbersFallBackToTheirShortestDescription() {
    #expect(DecimalText.format(1e20, maximumDecimals: 2) == "1e+20")
}
