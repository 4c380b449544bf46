import EventStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WireTypes

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends the outbox's deliveries, on every daemon: takes the due ones (holding each for a try's length, so daemons
/// sharing a database never send one twice at once), POSTs each signed body, and records the outcome — delivered,
/// retried after its backoff, or abandoned after the last try. A daemon that dies mid-try leaves the row to be
/// taken again once the hold runs out: delivery is at least once, and every try of a row carries the same
/// delivery id (`X-E2H-Delivery`) for receivers that must see each once.
struct HookSender: Service {
    let queue: Queue
    /// Woken by the outbox's NOTIFY; polling at the queue's interval stays the fallback.
    let outbox: WakeSignal

    var policy: HookRetryPolicy { queue.settings.hookRetry }

    struct Delivery: Sendable {
        var id: Int64
        var trigger: String
        var body: Data
        var attempt: Int
        var url: String
        var secret: String
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let seen = outbox.generation
            do {
                while try await sendDue() > 0 && !Task.isShuttingDownGracefully {}
            } catch {
                queue.logger.error("webhook deliveries failed to load", metadata: ["error": "\(error)"])
            }
            await cancelWhenGracefulShutdown {
                await outbox.wait(after: seen, timeout: queue.settings.pollInterval)
            }
        }
    }

    /// Takes up to 16 due deliveries, sends them side by side, and returns how many it took.
    func sendDue() async throws -> Int {
        let hold = policy.trySeconds
        let due = try await queue.store.transaction { tx -> [Delivery] in
            let rows = try tx.query(
                """
                UPDATE webhook_deliveries AS d SET attempts = d.attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $1)
                FROM webhooks AS h
                WHERE h.id = d.webhook_id AND d.id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT 16
                    FOR UPDATE SKIP LOCKED)
                RETURNING d.id, d.trigger, d.body, d.attempts, h.url, h.secret
                """, [.double(hold)])
            return try (0..<rows.count).map { row in
                func required<T>(_ value: T?, _ column: String) throws -> T { try RunTable.required(value, column) }
                return Delivery(
                    id: try required(rows.int64(row, "id"), "id"),
                    trigger: try required(rows.string(row, "trigger"), "trigger"),
                    body: try required(rows.bytes(row, "body"), "body"),
                    attempt: try required(rows.int(row, "attempts"), "attempts"),
                    url: try required(rows.string(row, "url"), "url"),
                    secret: try required(rows.string(row, "secret"), "secret"))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for delivery in due { group.addTask { await self.deliver(delivery) } }
        }
        return due.count
    }

    private func deliver(_ delivery: Delivery) async {
        let failure: String?
        switch await post(delivery) {
        case .answered(let error): failure = error
        case .cut:
            // The daemon's own shutdown ended the try, not the receiver: the try is given back, and the delivery is
            // due at once on whichever daemon looks next (it counted as one of the tries before).
            do {
                try await queue.store.execute(
                    "UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = now() WHERE id = $1",
                    [.int(delivery.id)])
                queue.logger.info("webhook try cut by shutdown; not counted", metadata: ["delivery": "\(delivery.id)"])
            } catch {
                queue.logger.error(
                    "could not give back a webhook try cut by shutdown",
                    metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
            }
            return
        }
        do {
            guard let failure else {
                try await queue.store.execute(
                    "UPDATE webhook_deliveries SET delivered_at = now(), last_error = NULL WHERE id = $1",
                    [.int(delivery.id)])
                queue.logger.info(
                    "webhook delivered", metadata: ["delivery": "\(delivery.id)", "attempt": "\(delivery.attempt)"])
                return
            }
            switch policy.afterFailure(ofAttempt: delivery.attempt) {
            case .retry(let seconds):
                try await queue.store.execute(
                    """
                    UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3
                    WHERE id = $1
                    """, [.int(delivery.id), .double(seconds), .text(failure)])
                queue.logger.warning(
                    "webhook delivery failed; retrying",
                    metadata: ["delivery": "\(delivery.id)", "in_seconds": "\(seconds)", "error": "\(failure)"])
            case .abandon:
                try await queue.store.execute(
                    "UPDATE webhook_deliveries SET abandoned_at = now(), last_error = $2 WHERE id = $1",
                    [.int(delivery.id), .text(failure)])
                queue.logger.error(
                    "webhook delivery abandoned after its last try",
                    metadata: ["delivery": "\(delivery.id)", "error": "\(failure)"])
            }
        } catch {
            // The hold runs out and the delivery is tried again: a repeat, never a loss.
            queue.logger.error(
                "could not record a webhook delivery's outcome",
                metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
        }
    }

    /// How a try ended.
    private enum TryEnd {
        /// nil when the receiver answered 2xx within the try's time; else what went wrong.
        case answered(error: String?)
        /// The sender was cancelled mid-try (the daemon's shutdown ran out of time).
        case cut
    }

    private func post(_ delivery: Delivery) async -> TryEnd {
        guard let url = URL(string: delivery.url) else {
            return .answered(error: "the URL \(delivery.url) does not parse")
        }
        let seconds = policy.trySeconds * 0.8
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = delivery.body
        request.timeoutInterval = seconds
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("e2hd", forHTTPHeaderField: "User-Agent")
        request.setValue(
            HookMessage.signature(of: delivery.body, secret: delivery.secret),
            forHTTPHeaderField: HookMessage.signatureHeader)
        request.setValue(String(delivery.id), forHTTPHeaderField: HookMessage.deliveryHeader)
        request.setValue(delivery.trigger, forHTTPHeaderField: HookMessage.triggerHeader)
        do {
            // A request's timeout is Foundation's idle timeout: a receiver that sent a byte every few seconds held
            // its try, and the sender's batch with it, for as long as it liked. The try's time is a deadline.
            let prepared = request
            guard let (_, response) = try await Self.within(seconds, { try await Self.session.data(for: prepared) })
            else { return .answered(error: "no answer within \(Int(seconds)) s") }
            guard let status = (response as? HTTPURLResponse)?.statusCode else {
                return .answered(error: "no HTTP response")
            }
            return .answered(error: (200..<300).contains(status) ? nil : "HTTP \(status)")
        } catch is CancellationError {
            return .cut
        } catch {
            // Foundation's own sentence ("Failed to connect to … port …"), not the NSError's dump.
            return .answered(error: error.localizedDescription)
        }
    }

    /// The session every try goes through: a redirect comes back as the 3xx it is (a failure, retried). Followed,
    /// it sent the signed headers without the body wherever the receiver pointed, and counted as delivered.
    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        // A try past its deadline is abandoned, and its transfer too, should the cancellation not reach it.
        configuration.timeoutIntervalForResource = 60
        return URLSession(configuration: configuration, delegate: RedirectRefusal(), delegateQueue: nil)
    }()

    /// `work`'s answer, or nil once `seconds` have passed first; `CancellationError` at once when the calling task
    /// is cancelled first. `work` is cancelled when it loses, and its answer, should the transport still give one,
    /// is ignored: it runs unstructured, so that a transport which does not heed cancellation holds nobody up.
    static func within<T: Sendable>(
        _ seconds: Double, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        let settlement = Settlement<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, any Error>) in
                guard settlement.wait(continuation) else { return }
                let attempt = Task {
                    do {
                        settlement.settle(.success(try await work()))
                    } catch {
                        settlement.settle(.failure(error))
                    }
                }
                settlement.onSettled { attempt.cancel() }
                Task {
                    try? await Task.sleep(for: .seconds(seconds))
                    settlement.settle(.success(nil))
                }
            }
        } onCancel: {
            settlement.settle(.failure(CancellationError()))
        }
    }
}

/// Resumes a continuation once, with whichever of the racers settles first: the work, its deadline, or the
/// caller's cancellation (which can come before the continuation exists; it is then resumed as soon as it does).
private final class Settlement<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T?, any Error>?
        var result: Result<T?, any Error>?
        var onSettled: (@Sendable () -> Void)?
        var settled = false
    }

    private let state = Mutex(State())

    /// Installs the continuation; false when a result came first (the continuation is resumed with it here).
    func wait(_ continuation: CheckedContinuation<T?, any Error>) -> Bool {
        let early = state.withLock { state -> Result<T?, any Error>? in
            if state.settled { return state.result }
            state.continuation = continuation
            return nil
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    /// What to do once the race is settled (cancel the work: harmless when the work itself won); at once if it is.
    func onSettled(_ action: @escaping @Sendable () -> Void) {
        let settled = state.withLock { state -> Bool in
            if state.settled { return true }
            state.onSettled = action
            return false
        }
        if settled { action() }
    }

    /// The first call wins; later ones do nothing.
    func settle(_ result: Result<T?, any Error>) {
        let (continuation, onSettled) = state.withLock {
            state -> (CheckedContinuation<T?, any Error>?, (@Sendable () -> Void)?) in
            guard !state.settled else { return (nil, nil) }
            state.settled = true
            state.result = result
            defer { state.continuation = nil; state.onSettled = nil }
            return (state.continuation, state.onSettled)
        }
        continuation?.resume(with: result)
        onSettled?()
    }
}

/// Refuses every redirect, so that the data task completes with the 3xx response itself.
private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
