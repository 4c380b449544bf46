/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative (ties count half), from average ranks (Mann–Whitney U).
enum ROCAUC {
    /// nil when one class is absent: the area is undefined then.
    static func area(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count)
        let positives = labels.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var rankSumOfPositives = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            // Tied scores share the average of their 1-based ranks.
            let averageRank = Double(start + end + 2) / 2
            for position in start...end where labels[order[position]] { rankSumOfPositives += averageRank }
            start = end + 1
        }
        let u = rankSumOfPositives - Double(positives * (positives + 1)) / 2
        return u / Double(positives * negatives)
    }
}
