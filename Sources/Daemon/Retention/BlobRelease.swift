/// Which released blobs may be deleted. Blobs are content-addressed, so several runs may name the same one (the same
/// spec twice saves the same checkpoints): a blob is deleted only once no run's record still holds it. A record
/// holds a blob it names until one of its tombstones (`BlobsPruned`) names it too. Pure: the caller reads, under
/// locks, which records mention which blobs.
struct BlobRelease {
    /// A blob's hash as it occurs in one event of one stream.
    struct Mention: Hashable {
        var stream: String
        var hash: String
        /// The event is a tombstone: the stream released the blob.
        var tombstone: Bool
    }

    /// The blobs each releasing stream may delete, in the releases' order (a blob two streams release now is
    /// counted once, for the first).
    var deletable: [(stream: String, hashes: [String])]

    /// - Parameters:
    ///   - releases: per stream, the blobs it releases now (its coming tombstone).
    ///   - mentions: every mention of those blobs in the event log, the releasing streams' included.
    init(releases: [(stream: String, hashes: [String])], mentions: [Mention]) {
        var releasedNow: Set<Mention> = []
        for release in releases {
            for hash in release.hashes {
                releasedNow.insert(Mention(stream: release.stream, hash: hash, tombstone: true))
            }
        }
        let tombstones = Set(mentions.filter(\.tombstone))
        var held: Set<String> = []
        for mention in mentions where !mention.tombstone {
            let released = Mention(stream: mention.stream, hash: mention.hash, tombstone: true)
            if !tombstones.contains(released) && !releasedNow.contains(released) { held.insert(mention.hash) }
        }
        var counted: Set<String> = []
        deletable = releases.map { release in
            (release.stream, release.hashes.filter { !held.contains($0) && counted.insert($0).inserted })
        }
    }
}
