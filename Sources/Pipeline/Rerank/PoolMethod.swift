/// How a `ScoreRecorded` row of a sample pool decides: pass@N (the ceiling) or one of the spec's reranking
/// methods. A closed set: a method the pipeline does not know cannot reach a pool.
enum PoolMethod: Equatable {
    case pass
    case rerank(RerankMethod)

    /// The row's `method` as recorded ("pass", "majority", "likelihood", "weighted", "best_of_n").
    var recordedName: String {
        switch self {
        case .pass: "pass"
        case .rerank(let method): method.rawValue
        }
    }

    /// Whether the method is right on one subset of a pool.
    var decides: ([Candidate]) -> Bool {
        switch self {
        case .pass: Reranking.anyCorrect
        case .rerank(let method): Reranking.picksCorrectly(method)
        }
    }
}
