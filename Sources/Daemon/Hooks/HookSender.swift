import AsyncHTTPClient
import EventStore
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOPosix
import OutboundHTTP
import ServiceLifecycle
import WireTypes

/// Sends the outbox's deliveries, on every daemon: takes the due ones (holding each for a try's length, so daemons
/// sharing a database never send one twice at once), POSTs each signed body, and records the outcome — delivered,
/// retried after its backoff, or abandoned after the last try. A daemon that dies mid-try leaves the row to be
/// taken again once the hold runs out: delivery is at least once, and every try of a row carries the same
/// delivery id (`X-E2H-Delivery`) for receivers that must see each once.
struct HookSender: Service {
    let queue: Queue
    /// Woken by the outbox's NOTIFY; polling at the queue's interval stays the fallback.
    let outbox: WakeSignal

    /// The proxies tries go through (`https_proxy` and the rest, as curl reads them); a value that names none this
    /// client can use fails every try with the message that says so.
    var proxies = ProxyEnvironment.process

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
        if case .failure(let error) = proxies {
            queue.logger.error("webhook tries will fail until e2hd restarts with a usable proxy: \(error.message)")
        }
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
    enum TryEnd: Equatable {
        /// nil when the receiver answered 2xx within the try's time; else what went wrong.
        case answered(error: String?)
        /// The sender was cancelled mid-try (the daemon's shutdown ran out of time).
        case cut
    }

    /// One try: POSTs the signed body and reads the answer's status, within the try's time.
    func post(_ delivery: Delivery) async -> TryEnd {
        guard let url = URL(string: delivery.url) else {
            return .answered(error: "the URL \(delivery.url) does not parse")
        }
        let proxy: ProxyEnvironment.Proxy?
        switch proxies {
        case .success(let proxies): proxy = proxies.proxy(for: url)
        case .failure(let error): return .answered(error: error.message)
        }
        // A redirect comes back as the 3xx it is (a failure, retried): followed, it sent the signed headers wherever
        // the receiver pointed, and counted as delivered (`OutboundClient`).
        let client = OutboundClient.client(.init(connectSeconds: Self.connectSeconds, proxy: proxy))
        // AsyncHTTPClient hears of a cancellation through a task of its own, which a loaded machine can run after
        // the answer came: a try whose caller was cancelled before it began is not sent at all.
        if Task.isCancelled { return .cut }
        let seconds = policy.trySeconds * 0.8
        var request = OutboundClient.request(to: url)
        request.method = .POST
        request.body = .bytes(ByteBuffer(data: delivery.body))
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "e2hd")
        request.headers.add(
            name: HookMessage.signatureHeader, value: HookMessage.signature(of: delivery.body, secret: delivery.secret))
        request.headers.add(name: HookMessage.deliveryHeader, value: String(delivery.id))
        request.headers.add(name: HookMessage.triggerHeader, value: delivery.trigger)
        do {
            // The try's time is a deadline for the whole answer's head: a receiver that trickles it a byte at a time
            // does not hold the try (an idle timeout would never fire). Only the status is read.
            let response = try await client.execute(
                request, deadline: .now() + .milliseconds(Int64(seconds * 1000)))
            let status = Int(response.status.code)
            return .answered(error: (200..<300).contains(status) ? nil : "HTTP \(status)")
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            return .answered(error: "no answer within \(Int(seconds)) s")
        } catch let error where error is CancellationError || (error as? HTTPClientError) == .cancelled {
            return .cut
        } catch {
            // As `hooks list` shows the URL: a password in it stays hidden in the failure it lists too.
            return .answered(error: Self.sentence(for: error, url: HookRegistry.shown(delivery.url), proxy: proxy))
        }
    }

    /// What went wrong with a try, as a receiver's owner reads it in `e2h hooks`.
    private static func sentence(for error: any Error, url: String, proxy: ProxyEnvironment.Proxy?) -> String {
        let target = proxy.map { "the proxy \($0.host):\($0.port) for \(url)" } ?? url
        return switch error {
        case let error as HTTPClientError where error == .connectTimeout:
            "could not connect to \(target) within \(connectSeconds) s"
        case let error as HTTPClientError where error == .proxyAuthenticationRequired:
            "\(target): the proxy asks for credentials (HTTP 407) — give them in its URL, http://user:password@host:port"
        case let error as HTTPClientError where error == .invalidProxyResponse:
            "\(target): the proxy did not open a tunnel to the receiver"
        case is NIOConnectionError, is IOError:
            "could not connect to \(target) (\(error))"
        default:
            "\(error)"
        }
    }

    /// How long a try may take to connect (within the try's own deadline); the failure's sentence names it.
    private static let connectSeconds: Int64 = 10
}
