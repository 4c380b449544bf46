import Testing
import WireTypes

@testable import Daemon

/// `select`'s rule without a database: seeds aggregated by setting, the largest mean chosen, never a seed.
@Suite struct SettingChoiceTests {
    static func candidate(_ run: String, rate: String?, seed: Int, _ value: Double?) -> SelectionResponse.Candidate {
        let rateSetting = rate.map { [GroupSetting(path: "lr", value: $0)] } ?? []
        return .init(run: run, settings: rateSetting + [GroupSetting(path: "seed", value: "\(seed)")], value: value)
    }

    @Test func theSettingWithTheLargestMeanWinsNotTheLuckiestSeed() {
        let choice = SettingChoice([
            Self.candidate("a0", rate: "1", seed: 0, 0.9), Self.candidate("a1", rate: "1", seed: 1, 0.1),
            Self.candidate("b0", rate: "2", seed: 0, 0.6), Self.candidate("b1", rate: "2", seed: 1, 0.6),
        ])
        #expect(choice.settings.map(\.runs) == [["a0", "a1"], ["b0", "b1"]])
        #expect(choice.settings.map(\.mean) == [0.5, 0.6])
        #expect(choice.chosen?.runs == ["b0", "b1"])
        #expect(choice.chosen?.settings == [GroupSetting(path: "lr", value: "2")])
    }

    @Test func membersWithoutTheFigureDoNotCountAndEqualMeansGoToTheFirst() {
        let choice = SettingChoice([
            Self.candidate("a0", rate: "1", seed: 0, 0.5), Self.candidate("a1", rate: "1", seed: 1, nil),
            Self.candidate("b0", rate: "2", seed: 0, 0.5), Self.candidate("c0", rate: "3", seed: 0, nil),
        ])
        #expect(choice.settings.map(\.recorded) == [1, 1, 0])
        #expect(choice.settings.map(\.mean) == [0.5, 0.5, nil])
        #expect(choice.chosen?.runs == ["a0", "a1"])
        #expect(SettingChoice([Self.candidate("c0", rate: "3", seed: 0, nil)]).chosen == nil)
    }

    /// Settings are compared on the seeds all of them have recorded: a's one finished seed (seed 1, 0.7) beats b's
    /// mean over two (0.65), but not b's seed 1 (0.8).
    @Test func settingsAreComparedOnTheSeedsEveryOneHasRecorded() {
        let choice = SettingChoice([
            Self.candidate("a0", rate: "1", seed: 0, nil), Self.candidate("a1", rate: "1", seed: 1, 0.7),
            Self.candidate("b0", rate: "2", seed: 0, 0.5), Self.candidate("b1", rate: "2", seed: 1, 0.8),
        ])
        #expect(choice.settings.map(\.mean) == [0.7, 0.8])
        #expect(choice.settings.map(\.recorded) == [1, 1])
        #expect(choice.chosen?.runs == ["b0", "b1"])
        let disjoint = SettingChoice([
            Self.candidate("a0", rate: "1", seed: 0, 0.9), Self.candidate("b1", rate: "2", seed: 1, 0.5),
        ])
        #expect(disjoint.chosen == nil && disjoint.settings.map(\.mean) == [nil, nil])
    }

    @Test func aGroupOfSeedsIsOneSettingChosenWhole() {
        let choice = SettingChoice([
            Self.candidate("s0", rate: nil, seed: 0, 0.2), Self.candidate("s1", rate: nil, seed: 1, 0.8),
        ])
        #expect(choice.settings.count == 1)
        #expect(choice.chosen == .init(settings: [], runs: ["s0", "s1"], mean: 0.5, recorded: 2))
    }
}
