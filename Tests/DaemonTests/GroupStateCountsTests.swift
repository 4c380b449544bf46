import Testing
import WireTypes

@Suite("Group state counts")
struct GroupStateCountsTests {
    @Test func countsEachStateAndPrintsTheNonZeroOnesInLifecycleOrder() {
        let counts = GroupStateCounts(states: [.queued, .completed, .failed, .completed, .running])
        #expect(counts.total == 5)
        #expect(counts.completed == 2 && counts.queued == 1 && counts.cancelled == 0)
        #expect(counts.text == "2 completed, 1 running, 1 queued, 1 failed")
        #expect(GroupStateCounts().text == "no members")
    }
}
