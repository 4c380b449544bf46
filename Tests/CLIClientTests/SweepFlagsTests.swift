import Testing

@testable import CLIClient

/// `--seeds -1..2` got ArgumentParser's "Missing value for '--seeds'": a value that starts with a dash is still the
/// option's, so the seed range's own reader says what is wrong with it.
@Test func aSeedRangeThatStartsWithADashIsTheOptionsValue() throws {
    #expect(try SweepFlags.parse(["--seeds", "-1..2"]).seeds == "-1..2")
    #expect(try SweepFlags.parse(["--seeds", "0..4", "--set", "seed=1"]).seeds == "0..4")
}
