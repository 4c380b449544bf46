import WireTypes

/// Everything the daemon was told, resolved: by `e2hd`'s flags, or by a benchmark that drives the queue in-process.
public struct DaemonSettings: Sendable {
    public var stateDirectory: String
    public var databaseURL: String?
    public var host: String
    public var port: Int
    public var workers: Int
    public var lease: Duration
    public var heartbeat: Duration
    public var reaperInterval: Duration
    public var pollInterval: Duration
    public var maxAttempts: Int
    public var backoff: Double
    public var threads: Int?
    public var owner: String
    /// Per-run limits a spec's `ResourceEstimate` must fit (`SpecAdmission`); tests leave them open.
    public var maximumRunMemoryBytes: Double
    public var maximumRunSeconds: Double
    /// What finished runs keep (`--retention`); a spec's `retention:` overrides it for its run.
    public var retention: RetentionMode
    /// Webhook deliveries' backoff and tries.
    public var hookRetry: HookRetryPolicy

    public init(
        stateDirectory: String, databaseURL: String?, host: String, port: Int, workers: Int, lease: Duration,
        heartbeat: Duration, reaperInterval: Duration, pollInterval: Duration, maxAttempts: Int, backoff: Double,
        threads: Int?, owner: String, maximumRunMemoryBytes: Double = .infinity, maximumRunSeconds: Double = .infinity,
        retention: RetentionMode = .standard, hookRetry: HookRetryPolicy = HookRetryPolicy()
    ) {
        self.stateDirectory = stateDirectory
        self.databaseURL = databaseURL
        self.host = host
        self.port = port
        self.workers = workers
        self.lease = lease
        self.heartbeat = heartbeat
        self.reaperInterval = reaperInterval
        self.pollInterval = pollInterval
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.threads = threads
        self.owner = owner
        self.maximumRunMemoryBytes = maximumRunMemoryBytes
        self.maximumRunSeconds = maximumRunSeconds
        self.retention = retention
        self.hookRetry = hookRetry
    }
}
