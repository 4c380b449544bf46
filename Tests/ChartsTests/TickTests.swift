import Testing

@testable import Charts

@Test func linearTicksAreOneTwoFiveStepsCoveringTheData() {
    let axis = ResolvedAxis(Axis(label: "accuracy", tickFormat: .percent), values: [0.13, 0.73])
    #expect(axis.lower == 0)
    #expect(axis.upper == 0.8)
    #expect(axis.ticks.map(\.value) == [0, 0.2, 0.4, 0.6, 0.8])
    #expect(axis.ticks.map(\.label) == ["0%", "20%", "40%", "60%", "80%"])
}

@Test func tickValuesAreExactMultiplesNotRunningSums() {
    // 0.1 + 0.1 + 0.1 is 0.30000000000000004; the third tick must be 0.3.
    let axis = ResolvedAxis(Axis(label: "x"), values: [0, 0.3])
    #expect(axis.ticks.map(\.value) == [0, 0.1, 0.2, 0.3])
    #expect(axis.ticks.map(\.label) == ["0", "0.1", "0.2", "0.3"])
}

@Test func compactLabelsShortenThousandsPerTick() {
    let axis = ResolvedAxis(Axis(label: "step", tickFormat: .compact), values: [10, 1500])
    #expect(axis.ticks.map(\.label) == ["0", "500", "1k", "1.5k"])
    let fine = ResolvedAxis(Axis(label: "step", tickFormat: .compact), values: [1000, 1200])
    #expect(fine.ticks.map(\.label) == ["1k", "1.05k", "1.1k", "1.15k", "1.2k"])
    let millions = ResolvedAxis(Axis(label: "tokens", tickFormat: .compact), values: [0, 3_000_000])
    #expect(millions.ticks.map(\.label) == ["0", "1M", "2M", "3M"])
}

@Test func percentLabelsKeepTheDecimalsTheStepNeeds() {
    let axis = ResolvedAxis(Axis(label: "accuracy", tickFormat: .percent), values: [0.01, 0.018])
    #expect(axis.ticks.map(\.label) == ["1%", "1.2%", "1.4%", "1.6%", "1.8%"])
}

@Test func includingZeroWidensTheDomainToZero() {
    let axis = ResolvedAxis(Axis(label: "y", domain: .automatic(includingZero: true)), values: [3, 7])
    #expect(axis.lower == 0)
    #expect(axis.upper == 8)
}

@Test func aConstantSeriesGetsARangeAroundItsValue() {
    let axis = ResolvedAxis(Axis(label: "y"), values: [5, 5, 5])
    #expect(axis.lower < 5 && axis.upper > 5)
    #expect(axis.ticks.count >= 3)
    let zero = ResolvedAxis(Axis(label: "y"), values: [0, 0])
    #expect(zero.lower == -1 && zero.upper == 1)
    let nonNegative = ResolvedAxis(Axis(label: "y", domain: .automatic(includingZero: true)), values: [0])
    #expect(nonNegative.lower == 0 && nonNegative.upper == 1)
}

@Test func aFixedDomainIsKeptAndTickedInside() {
    let axis = ResolvedAxis(Axis(label: "y", domain: .fixed(lower: 0.05, upper: 0.95)), values: [2, 3])
    #expect(axis.lower == 0.05 && axis.upper == 0.95)
    #expect(axis.ticks.map(\.value) == [0.2, 0.4, 0.6, 0.8])
}

@Test func anInvalidFixedDomainFallsBackToTheData() {
    let axis = ResolvedAxis(Axis(label: "y", domain: .fixed(lower: 1, upper: 1)), values: [2, 3])
    #expect(axis.lower == 2 && axis.upper == 3)
}

@Test func noDataGivesTheUnitRange() {
    let axis = ResolvedAxis(Axis(label: "y"), values: [.nan, .infinity])
    #expect(axis.lower == 0 && axis.upper == 1)
}

@Test func log2TicksArePowersOfTwo() {
    let axis = ResolvedAxis(Axis(label: "N", scale: .log2), values: [1, 3, 256, 0, -4, .nan])
    #expect(axis.lower == 1 && axis.upper == 256)
    #expect(axis.ticks.map(\.label) == ["1", "2", "4", "8", "16", "32", "64", "128", "256"])
    #expect(axis.fraction(16) == 0.5)
    #expect(axis.fraction(0) == nil)
}

@Test func wideLog2AxesTickEveryFewPowersAlignedToOne() {
    let axis = ResolvedAxis(Axis(label: "N", scale: .log2), values: [0.25, 1_048_576])
    #expect(axis.lower == 0.25)
    #expect(axis.ticks.map(\.label) == ["1", "16", "256", "4096", "65536", "2²⁰"])
    let medium = ResolvedAxis(Axis(label: "N", scale: .log2), values: [1, 4096])
    #expect(medium.ticks.map(\.label) == ["1", "4", "16", "64", "256", "1024", "4096"])
}

@Test func aSingleLog2ValueIsFramedByItsNeighbours() {
    let axis = ResolvedAxis(Axis(label: "N", scale: .log2), values: [4])
    #expect(axis.ticks.map(\.label) == ["2", "4", "8"])
}

@Test func extremeValuesNeitherOverflowNorCrash() {
    let huge = ResolvedAxis(Axis(label: "loss"), values: [-1e308, 1e308, 1e300])
    // ±1e308 cannot be placed; the axis frames the one value that can.
    #expect(huge.lower < 1e300 && huge.upper > 1e300 && huge.upper.isFinite)
    let wide = ResolvedAxis(Axis(label: "loss", domain: .fixed(lower: -1e308, upper: 1e308)), values: [-1e300, 1e300])
    #expect(wide.lower <= -1e300 && wide.upper >= 1e300 && wide.upper.isFinite && wide.lower.isFinite)
    let narrow = ResolvedAxis(Axis(label: "loss"), values: [1e15, 1e15 + 0.25])
    #expect(narrow.lower <= 1e15 && narrow.upper >= 1e15 + 0.25)
    let tiny = ResolvedAxis(Axis(label: "N", scale: .log2), values: [.leastNonzeroMagnitude, 1e300])
    #expect(tiny.ticks.count >= 2 && tiny.lower > 0)
}

@Test func ticksFinerThanNineDecimalsAreWrittenInShortestForm() {
    let axis = ResolvedAxis(Axis(label: "y"), values: [0, 4e-12])
    #expect(axis.ticks.map(\.label) == ["0", "1e-12", "2e-12", "3e-12", "4e-12"])
}

@Test func aSubnormalValueOnALog2AxisKeepsTheDomainPositive() {
    let axis = ResolvedAxis(Axis(label: "N", scale: .log2), values: [.leastNonzeroMagnitude])
    #expect(axis.lower > 0 && axis.upper > axis.lower)
    #expect(axis.fraction(.leastNonzeroMagnitude)?.isFinite == true)
}
