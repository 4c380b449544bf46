import NeuralEngine
import Testing

@testable import Pipeline

@Suite struct RandomStreamTests {
    /// Names at the corners of every field, for every purpose: the packed stream numbers never coincide,
    /// and each number gives back the purpose, item and index it was made from.
    @Test func everyNameHasAStreamOfItsOwn() {
        let items = [0, 1, 2, (1 << RandomStream.itemBits) - 1]
        let indices = [0, 1, 2, (1 << RandomStream.indexBits) - 1]
        var numbers: [UInt64: RandomStream] = [:]
        for purpose in RandomStream.Purpose.allCases {
            for item in items {
                for index in indices {
                    let stream = RandomStream(purpose, item: item, index: index)
                    #expect(numbers.updateValue(stream, forKey: stream.number) == nil, "\(stream) collides")
                    #expect(stream.number >> 56 == UInt64(purpose.rawValue))
                    #expect(Int(stream.number >> 32 & 0xFF_FFFF) == item)
                    #expect(Int(stream.number & 0xFFFF_FFFF) == index)
                }
            }
        }
        #expect(numbers.count == RandomStream.Purpose.allCases.count * items.count * indices.count)
        // Purpose 0 is left unused, so no name maps to the generator's default stream.
        #expect(RandomStream.Purpose.allCases.allSatisfy { $0.rawValue > 0 })
    }

    @Test func differentNamesDrawDifferentNumbers() {
        var first = RandomStream(.evaluatorBatches, item: 1, index: 7).generator(seed: 3)
        var second = RandomStream(.evaluatorBatches, item: 2, index: 7).generator(seed: 3)
        var again = RandomStream(.evaluatorBatches, item: 1, index: 7).generator(seed: 3)
        let a = (0..<4).map { _ in first.next() }
        #expect(a != (0..<4).map { _ in second.next() })
        #expect(a == (0..<4).map { _ in again.next() })
        #expect(
            RandomStream(.policyInitialization).seed(from: 0) != RandomStream(.evaluatorInitialization).seed(from: 0))
    }
}
