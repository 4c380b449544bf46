import Canonical
import Foundation

/// Walks the whole log in position order and names the first thing that does not hold: a missing position, a
/// broken link of any stream's chain, or (at the end) a stored head — of the log or of a stream — that disagrees
/// with the events. Pure, so that what it accepts is tested without a database; `EventStore.verifyLog` feeds it.
public struct LogCheck: Sendable {
    /// Each stream's chain so far. Looked up by name only, never iterated: the order of the result never depends
    /// on a dictionary's.
    private var streams: [String: ChainCheck] = [:]
    private var global = HashChain.genesis
    private var globalPoints: [Int64: String]
    /// Positions at which the caller wants the recomputed log hash (a receipt's or a witness's).
    private let wanted: Set<Int64>

    public private(set) var lastPosition: Int64 = 0

    public init(checkpoints: [Int64] = []) {
        wanted = Set(checkpoints)
        globalPoints = wanted.contains(0) ? [0: ChainPoint.genesis.hash] : [:]
    }

    /// The recomputed head of the log so far.
    public var head: ChainPoint { ChainPoint(length: lastPosition, hash: Hex.encode(global)) }

    /// The recomputed log hash at each requested position the walk reached.
    public var checkpoints: [Int64: String] { globalPoints }

    /// The number of distinct streams seen.
    public var streamCount: Int { streams.count }

    /// Accepts the next event of the log, or returns why the log breaks there.
    public mutating func accept(_ event: RecordedEvent) -> LogBreak? {
        guard event.position == lastPosition + 1 else {
            return LogBreak(
                position: lastPosition + 1, stream: nil,
                reason: "position \(lastPosition + 1) is missing; the next event is at \(event.position) "
                    + "(events were deleted)")
        }
        var chain = streams[event.stream] ?? ChainCheck(stream: event.stream)
        if case .broken(let version, _, let reason) = chain.accept(event) {
            return LogBreak(
                position: event.position, stream: event.stream, reason: "version \(version) of the stream: \(reason)")
        }
        streams[event.stream] = chain
        global = GlobalChain.hash(
            previous: global, position: event.position, eventHash: Hex.decode(event.hash) ?? Data())
        lastPosition = event.position
        if wanted.contains(lastPosition) { globalPoints[lastPosition] = Hex.encode(global) }
        return nil
    }

    /// Compares a stored stream head with the events seen of that stream.
    public func checkStreamHead(_ name: String, _ stored: ChainPoint) -> LogBreak? {
        let seen = streams[name].map { ChainPoint(length: $0.lastVersion, hash: $0.lastHash) } ?? .genesis
        guard seen == stored else {
            return LogBreak(
                position: nil, stream: name,
                reason: "the stream's head says version \(stored.length), but its events end at version "
                    + "\(seen.length)\(seen.length == stored.length ? " with another hash" : "") (events were removed "
                    + "or the head was edited)")
        }
        return nil
    }

    /// Compares the stored log head with the events seen.
    public func checkLogHead(_ stored: ChainPoint) -> LogBreak? {
        guard head == stored else {
            return LogBreak(
                position: nil, stream: nil,
                reason: "the log's head says position \(stored.length) with hash \(stored.hash.prefix(12))…, but the "
                    + "events recompute to position \(head.length) with hash \(head.hash.prefix(12))… (events were "
                    + "removed or the head was edited)")
        }
        return nil
    }
}

/// Where and why the log does not verify.
public struct LogBreak: Sendable, Equatable, Error {
    /// The global position of the first event that breaks, when the break is at an event.
    public var position: Int64?
    /// The stream concerned, when one is.
    public var stream: String?
    public var reason: String
}

/// The outcome of `EventStore.verifyLog`: the recomputed head, the first break (nil when intact) and the log hash
/// recomputed at each requested checkpoint the log reaches.
public struct LogVerification: Sendable, Equatable {
    public var recomputed: ChainPoint
    public var stored: ChainPoint
    public var streams: Int
    public var broken: LogBreak?
    public var checkpoints: [Int64: String]
}
