import Foundation

/// When a failed delivery is tried again, and when e2h gives up: decided without I/O.
public struct HookRetryPolicy: Sendable, Equatable {
    /// The wait after the first failed try; each further failure doubles it, up to `maximumDelaySeconds`.
    public var firstDelaySeconds: Double
    public var maximumDelaySeconds: Double
    /// Tries in all, the first included.
    public var maximumAttempts: Int
    /// How long one try may take, and how long its row is held meanwhile: a daemon that dies mid-try leaves the
    /// delivery to be tried again this long after the try began.
    public var trySeconds: Double

    public init(
        firstDelaySeconds: Double = 2, maximumDelaySeconds: Double = 3600, maximumAttempts: Int = 15,
        trySeconds: Double = 15
    ) {
        self.firstDelaySeconds = firstDelaySeconds
        self.maximumDelaySeconds = maximumDelaySeconds
        self.maximumAttempts = maximumAttempts
        self.trySeconds = trySeconds
    }

    enum Next: Equatable {
        case retry(afterSeconds: Double)
        case abandon
    }

    /// What follows the failure of try number `attempt` (1 for the first).
    func afterFailure(ofAttempt attempt: Int) -> Next {
        guard attempt < maximumAttempts else { return .abandon }
        let doublings = Double(min(max(attempt - 1, 0), 40))
        return .retry(afterSeconds: min(firstDelaySeconds * pow(2, doublings), maximumDelaySeconds))
    }
}
