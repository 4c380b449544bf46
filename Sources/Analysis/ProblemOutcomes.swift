import Foundation

/// Which resampled picks were correct, per problem, behind one recorded score (one row at one level).
///
/// A score averages over `draws` random subsets of each problem's pool; this keeps each subset's
/// outcome, so statistics over problems (bootstrap intervals, paired differences between rows that
/// saw the same problems) can be computed from the record alone, also for an imported run.
/// `draws` is the same for every problem of a score: 1 for greedy decoding and for N = pool size
/// (one subset), the spec's `rerank.resamples` otherwise.
///
/// Blob format, version 1, little-endian:
/// - the 4 bytes `E2HO` and a version byte (1);
/// - `draws` (UInt32) and the problem count P (UInt32);
/// - the problems' indices in their split as R ranges: R (UInt32), then R × (start, count) (UInt32 each);
///   problems of one level are consecutive in a split, so R is usually 1;
/// - P bitsets of ⌈draws/8⌉ bytes, in problem order: bit d (LSB first) is set when draw d's pick was correct.
public struct ProblemOutcomes: Sendable, Equatable {
    public let draws: Int
    /// Indices of the problems in their split, ascending.
    public private(set) var problems: [Int] = []
    /// Correct draws per problem, in `problems` order.
    public private(set) var hits: [Int] = []
    private var bits: [UInt8] = []

    private static let magic: [UInt8] = Array("E2HO".utf8)
    private static let version: UInt8 = 1

    public init(draws: Int) {
        precondition(draws > 0 && draws <= 1 << 20, "draws must be in 1...2^20")
        self.draws = draws
    }

    private var bytesPerProblem: Int { (draws + 7) / 8 }

    /// Adds the next problem (indices must ascend) with one outcome per draw.
    public mutating func append(problem: Int, outcomes: [Bool]) {
        precondition(outcomes.count == draws, "expected \(draws) outcomes, got \(outcomes.count)")
        precondition(problems.last.map { $0 < problem } ?? (problem >= 0), "problems must ascend")
        var set = [UInt8](repeating: 0, count: bytesPerProblem)
        var count = 0
        for (draw, correct) in outcomes.enumerated() where correct {
            set[draw >> 3] |= 1 << UInt8(draw & 7)
            count += 1
        }
        problems.append(problem)
        hits.append(count)
        bits += set
    }

    /// Whether draw `draw` of the problem at `offset` (in `problems` order) picked a correct answer.
    public func isCorrect(offset: Int, draw: Int) -> Bool {
        bits[offset * bytesPerProblem + draw >> 3] & (1 << UInt8(draw & 7)) != 0
    }

    /// The per-problem accuracy averaged over draws: hits / draws.
    public var problemAccuracies: [Double] { hits.map { Double($0) / Double(draws) } }

    /// Mean over problems of the per-problem accuracy; nil without problems.
    public var accuracy: Double? {
        problems.isEmpty ? nil : Double(hits.reduce(0, +)) / Double(problems.count * draws)
    }

    public func encoded() -> Data {
        var ranges: [(start: Int, count: Int)] = []
        for problem in problems {
            if let last = ranges.last, last.start + last.count == problem {
                ranges[ranges.count - 1].count += 1
            } else {
                ranges.append((problem, 1))
            }
        }
        var bytes = Self.magic + [Self.version]
        func put(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { bytes += $0 } }
        put(draws)
        put(problems.count)
        put(ranges.count)
        for range in ranges {
            put(range.start)
            put(range.count)
        }
        return Data(bytes + bits)
    }

    public init(decoding data: Data) throws(AnalysisError) {
        let bytes = [UInt8](data)
        var cursor = 0
        func fail(_ why: String) -> AnalysisError {
            AnalysisError(.malformedOutcomes, "a per-problem outcome blob of \(bytes.count) bytes \(why)")
        }
        func take() throws(AnalysisError) -> Int {
            guard cursor + 4 <= bytes.count else { throw fail("ends inside its header") }
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[cursor + index]) << (8 * UInt32(index)) }
            cursor += 4
            return Int(value)
        }
        guard bytes.count >= 5, Array(bytes[0..<4]) == Self.magic else { throw fail("does not start with E2HO") }
        guard bytes[4] == Self.version else { throw fail("has version \(bytes[4]); this build reads version 1") }
        cursor = 5
        let draws = try take()
        guard draws > 0, draws <= 1 << 20 else { throw fail("claims \(draws) draws per problem") }
        self.init(draws: draws)
        let count = try take()
        let rangeCount = try take()
        guard rangeCount <= count else { throw fail("has more index ranges than problems") }
        var problems: [Int] = []
        problems.reserveCapacity(count)
        for _ in 0..<rangeCount {
            let start = try take()
            let length = try take()
            guard length > 0, problems.last.map({ $0 < start }) ?? true, problems.count + length <= count else {
                throw fail("has overlapping or out-of-order problem ranges")
            }
            problems += start..<(start + length)
        }
        guard problems.count == count else { throw fail("lists \(problems.count) problems, not \(count)") }
        guard bytes.count - cursor == count * bytesPerProblem else {
            throw fail("holds \(bytes.count - cursor) outcome bytes, not \(count * bytesPerProblem)")
        }
        self.problems = problems
        bits = Array(bytes[cursor...])
        hits = (0..<count).map { offset in
            bits[(offset * bytesPerProblem)..<((offset + 1) * bytesPerProblem)].reduce(0) { $0 + $1.nonzeroBitCount }
        }
        // Bits past `draws` in a problem's last byte must be clear, or two blobs could mean the same outcomes.
        if draws % 8 != 0 {
            let mask = UInt8(0xFF) << UInt8(draws % 8)
            for offset in 0..<count where bits[(offset + 1) * bytesPerProblem - 1] & mask != 0 {
                throw fail("sets bits past its \(draws) draws")
            }
        }
    }
}
