import Foundation
import Testing

@testable import NeuralEngine

@Suite struct ElementaryTests {
    @Test func expIsAccurateAndSaturates() {
        for x in stride(from: Float(-87), through: 88, by: 0.173) {
            let expected = Foundation.exp(Double(x))
            #expect(abs(Double(Elementary.exp(x)) - expected) <= 4e-7 * expected, "exp(\(x))")
        }
        #expect(Elementary.exp(-100) == 0)
        #expect(Elementary.exp(100) == .infinity)
        #expect(Elementary.exp(0) == 1)
    }

    @Test func vectorAndScalarFormsAgree() {
        let xs = SIMD16<Float>((0..<16).map { Float($0) * 1.37 - 11 })
        let e = Elementary.exp(xs)
        let t = Elementary.tanh(xs)
        for lane in 0..<16 {
            #expect(e[lane].bitPattern == Elementary.exp(xs[lane]).bitPattern)
            #expect(t[lane].bitPattern == Elementary.tanh(xs[lane]).bitPattern)
        }
    }

    @Test func tanhLogCosAreAccurate() {
        for x in stride(from: Float(-12), through: 12, by: 0.0371) {
            #expect(abs(Elementary.tanh(x) - Float(Foundation.tanh(Double(x)))) < 3e-7, "tanh(\(x))")
        }
        for x in [1e-30, 1e-5, 0.3, 1, 2.5, 1e3, 1e30, Double.leastNonzeroMagnitude] {
            #expect(abs(Elementary.log(x) - Foundation.log(x)) <= 1e-15 * max(1, abs(Foundation.log(x))), "log(\(x))")
        }
        #expect(Elementary.log(0.0) == -.infinity)
        for x in stride(from: 0.0, through: 3.15, by: 0.01) {
            #expect(abs(Elementary.cos(x) - Foundation.cos(x)) < 1e-14, "cos(\(x))")
        }
    }
}
