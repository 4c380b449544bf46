import Pipeline
import Testing

@Suite("Sweep detection")
struct SpecGroupDetectionTests {
    @Test func aTopLevelSweepBlockMakesAGroup() {
        #expect(SpecGroup.hasSweep(yaml: "name: a\nsweep:\n  seeds: 0..2\n", file: "a.yaml"))
        #expect(!SpecGroup.hasSweep(yaml: "name: a\nseed: 2\n", file: "a.yaml"))
        // Only at the top: a key named sweep deeper down is not a sweep block.
        #expect(!SpecGroup.hasSweep(yaml: "name: a\npolicy:\n  sweep: 1\n", file: "a.yaml"))
        #expect(!SpecGroup.hasSweep(yaml: "name: [unclosed\n", file: "a.yaml"))
    }
}
