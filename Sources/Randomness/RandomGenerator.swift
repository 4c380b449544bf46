/// xoshiro256** seeded through SplitMix64: fast, small state that checkpoints can store, and the
/// same sequence on every platform. `stream` derives independent generators from one seed (one per
/// purpose, one per sampled row) without any of them consuming the others' draws. The one generator of
/// e2h: the engine's draws and the statistics' bootstrap both come from here, in a module of its own so
/// that the statistics need not link the engine.
public struct RandomGenerator: Sendable, Equatable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        // Mix seed and stream through separate SplitMix64 outputs so that (seed, stream) pairs do
        // not alias the way `seed + stream` would.
        var mixer = SplitMix64(state: seed)
        let seedKey = mixer.next()
        var streamMixer = SplitMix64(state: stream ^ 0xD1B5_4A32_D192_ED03)
        var state = SplitMix64(state: seedKey ^ streamMixer.next() ^ streamMixer.next())
        s0 = state.next()
        s1 = state.next()
        s2 = state.next()
        s3 = state.next()
    }

    /// The state SplitMix64 gives `seed` directly, without streams: the bootstrap's replicates
    /// (`ProblemBootstrap`) are keyed this way, so every interval e2h has printed stays the same.
    public init(splitMixSeed seed: UInt64) {
        var state = SplitMix64(state: seed)
        (s0, s1, s2, s3) = (state.next(), state.next(), state.next(), state.next())
    }

    /// The four state words, for checkpoints; setting them resumes the exact sequence.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3] }
        set {
            precondition(newValue.count == 4, "RandomGenerator state has 4 words, got \(newValue.count)")
            (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    public mutating func next() -> UInt64 {
        let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3.rotatedLeft(by: 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits, so every value is an exact Float.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits (the statistics' simulations).
    public mutating func nextUnitInterval() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<bound without modulo bias (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }
}

struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotatedLeft(by k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
