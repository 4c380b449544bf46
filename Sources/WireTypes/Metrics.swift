import Foundation

/// `GET /v1/runs/{id}/metrics`: a run's training curves as recorded, one series per stage, model and metric.
/// The daemon splits the stored names ("sft.policy.loss") once, so no client parses them.
public struct RunMetrics: Codable, Sendable, Equatable {
    public var run: String
    /// Ordered by stage (in execution order), model and metric.
    public var series: [MetricSeries]

    public init(run: String, series: [MetricSeries]) {
        self.run = run
        self.series = series
    }
}

/// One curve: a metric of a model trained in a stage, per optimizer step. Where a resumed attempt
/// re-recorded a step, the latest attempt's value is the one kept.
public struct MetricSeries: Codable, Sendable, Equatable {
    public var stage: String
    /// "policy", an evaluator's name, "ppo".
    public var model: String
    /// "loss", "learning_rate", "mean_return", ...
    public var metric: String
    /// Ascending, one value per step.
    public var steps: [Int]
    public var values: [Double]

    public init(stage: String, model: String, metric: String, steps: [Int], values: [Double]) {
        self.stage = stage
        self.model = model
        self.metric = metric
        self.steps = steps
        self.values = values
    }
}

/// `POST /v1/dashboard/sign-in-links`: a new one-time sign-in link, as a path and query on the daemon's URL.
public struct SignInLinkResponse: Codable, Sendable, Equatable {
    public var path: String
    public var expiresAt: Date

    public init(path: String, expiresAt: Date) {
        self.path = path
        self.expiresAt = expiresAt
    }
}
