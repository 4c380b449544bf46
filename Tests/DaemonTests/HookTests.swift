import Canonical
import EventStore
import Foundation
import OutboundHTTP
import TestSupport
import Testing
import WireTypes

@testable import Daemon

@Suite("Webhooks")
struct HookTests {
    static let spec = "name: tiny\nseed: 7\n"

    @Test func retriesBackOffExponentiallyUpToACapThenGiveUp() {
        let policy = HookRetryPolicy(firstDelaySeconds: 2, maximumDelaySeconds: 30, maximumAttempts: 6)
        #expect(
            (1...6).map(policy.afterFailure(ofAttempt:)) == [
                .retry(afterSeconds: 2), .retry(afterSeconds: 4), .retry(afterSeconds: 8), .retry(afterSeconds: 16),
                .retry(afterSeconds: 30), .abandon,
            ])
    }

    @Test func theSignatureIsHMACSHA256OfTheExactBody() {
        // RFC 4231-style known answer (the Wikipedia HMAC example).
        let body = Data("The quick brown fox jumps over the lazy dog".utf8)
        #expect(
            HookMessage.signature(of: body, secret: "key")
                == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        #expect(
            HookMessage.signature(of: body + Data(" ".utf8), secret: "key")
                != HookMessage.signature(of: body, secret: "key"))
    }

    @Test func theBodiesAreE2hsJSONOrSlacksText() throws {
        let failed = HookMessage.notification(
            .failed, event: .failed(RunFailed(reason: "attempt 3: boom", worker: "w")), run: "r1", name: "tiny",
            state: .failed, at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(failed.detail == "attempt 3: boom" && failed.occurredAt == "2027-01-15T08:00:00.000Z")
        let json = try HookMessage.body(failed, format: .json)
        #expect(try CanonicalJSON.decode(HookNotification.self, from: json) == failed)
        let slack = try JSONDecoder().decode([String: String].self, from: try HookMessage.body(failed, format: .slack))
        #expect(slack == ["text": "e2h run *tiny* (`r1`) failed: attempt 3: boom"])
        #expect(!String(decoding: json, as: UTF8.self).contains("replayOf"), "a run's body is as it was")
        // A replay job's completion says so, and gives its verdict: a receiver saw the run complete twice.
        let replay = HookMessage.notification(
            .completed, event: .completed(RunCompleted(summary: "identical (650 events)", headline: nil)), run: "j1",
            name: "tiny", state: .completed, at: Date(timeIntervalSince1970: 1_800_000_000), replayOf: "r1")
        #expect(
            try CanonicalJSON.decode(HookNotification.self, from: try HookMessage.body(replay, format: .json)) == replay
        )
        let replaySlack = try JSONDecoder().decode(
            [String: String].self, from: try HookMessage.body(replay, format: .slack))
        #expect(replaySlack == ["text": "e2h replay of *tiny* (`r1`) completed: identical (650 events)"])
    }

    @Test func aPasswordInAHooksURLIsNotListed() {
        #expect(HookRegistry.shown("http://user:pa55w0rd@127.0.0.1:8/x") == "http://user:***@127.0.0.1:8/x")
        #expect(HookRegistry.shown("https://example.org/hook?a=1") == "https://example.org/hook?a=1")
    }

    @Test func aHookNeedsAnHTTPURLAndSomethingToListenFor() throws {
        let ok = try HookRegistry.checked(
            HookRequest(
                url: "https://example.org/h", triggers: [.stalled, .completed, .stalled], format: .json, secret: nil))
        #expect(ok.triggers == [.completed, .stalled])
        for bad in [
            HookRequest(url: "ftp://example.org/h", triggers: [.failed], format: .json, secret: nil),
            HookRequest(url: "https:///nohost", triggers: [.failed], format: .json, secret: nil),
            HookRequest(url: "http://example.org", triggers: [], format: .json, secret: nil),
            HookRequest(url: "http://example.org", triggers: [.failed], format: .slack, secret: ""),
        ] {
            #expect(throws: DaemonError.self) { try HookRegistry.checked(bad) }
        }
    }

    /// The rows the outbox holds for `run`: (hook id, trigger, body).
    func outbox(_ queue: Queue, run: String) async throws -> [(hook: String, trigger: String, body: Data)] {
        let rows = try await queue.store.execute(
            "SELECT webhook_id, trigger, body FROM webhook_deliveries WHERE run_id = $1 ORDER BY id", [.text(run)])
        return try (0..<rows.count).map {
            (try rows.string($0, "webhook_id")!, try rows.string($0, "trigger")!, try rows.bytes($0, "body")!)
        }
    }

    @Test func theOutboxIsWrittenWithTheEventForTheHooksThatListen() async throws {
        let queue = try await TestDatabase.queue()
        let registry = HookRegistry(queue: queue)
        let ends = try await registry.add(
            HookRequest(url: "http://127.0.0.1:1/ends", triggers: [.cancelled, .stalled], format: .json, secret: "s"))
        let slack = try await registry.add(
            HookRequest(url: "http://127.0.0.1:1/slack", triggers: [.cancelled], format: .slack, secret: nil))
        _ = try await registry.add(
            HookRequest(url: "http://127.0.0.1:1/done", triggers: [.completed], format: .json, secret: nil))
        #expect(ends.secret == "s" && slack.secret.count == 64)

        // A queued run cancelled: one delivery per listening hook, in the format each asked for.
        let cancelled = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "t.yaml")).run.id
        _ = try await queue.cancel(cancelled)
        let rows = try await outbox(queue, run: cancelled)
        #expect(rows.map(\.hook) == [ends.hook.id, slack.hook.id] && rows.allSatisfy { $0.trigger == "cancelled" })
        let told = try CanonicalJSON.decode(HookNotification.self, from: rows[0].body)
        #expect(told.run == cancelled && told.name == "tiny" && told.state == .cancelled)
        #expect(told.detail == "cancelled while queued")
        #expect(String(decoding: rows[1].body, as: UTF8.self).hasPrefix(#"{"text":"e2h run *tiny*"#))

        // An expired lease requeued by the reaper is a stall; the claim and the requeue themselves tell nobody.
        let stalled = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "t.yaml")).run.id
        _ = try #require(try await queue.claim(owner: "w"))
        #expect(try await outbox(queue, run: stalled).isEmpty)
        try await TestDatabase.expireLease(of: stalled, in: queue)
        #expect(try await queue.reap() == 1)
        let stall = try await outbox(queue, run: stalled)
        #expect(stall.map(\.trigger) == ["stalled"] && stall.map(\.hook) == [ends.hook.id])
        #expect(try CanonicalJSON.decode(HookNotification.self, from: stall[0].body).state == .queued)

        // Removing a hook removes what it still had to deliver.
        try await registry.remove(slack.hook.id)
        #expect(try await outbox(queue, run: cancelled).map(\.hook) == [ends.hook.id])
        await #expect(throws: DaemonError.self) { try await registry.remove(slack.hook.id) }
        #expect(try await registry.list().map(\.url) == ["http://127.0.0.1:1/ends", "http://127.0.0.1:1/done"])
    }

    /// A delivery of a cancelled run's end to `url`, as the outbox hands one to a try.
    static func delivery(to url: String) -> HookSender.Delivery {
        HookSender.Delivery(
            id: 1, trigger: "cancelled", body: Data("{}".utf8), attempt: 1, url: url, secret: "s")
    }

    /// A cancelled run's delivery to `receiver`, taken and tried once: its row afterwards.
    func triedOnce(
        answering answer: HookReceiver.Answer, trySeconds: Double = 15
    ) async throws -> (error: String?, delivered: Bool, received: [HookReceiver.Received], took: Duration) {
        var settings = TestDatabase.settings()
        settings.hookRetry = HookRetryPolicy(
            firstDelaySeconds: 60, maximumDelaySeconds: 60, maximumAttempts: 3, trySeconds: trySeconds)
        let queue = try await TestDatabase.queue(settings)
        let receiver = try HookReceiver(port: 0, answer: answer)
        let port = receiver.port
        defer { receiver.stop() }
        _ = try await HookRegistry(queue: queue).add(
            HookRequest(url: "http://127.0.0.1:\(port)/hook", triggers: [.cancelled], format: .json, secret: nil))
        let run = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "t.yaml")).run.id
        _ = try await queue.cancel(run)
        let started = ContinuousClock.now
        #expect(try await HookSender(queue: queue, outbox: WakeSignal()).sendDue() == 1)
        let took = ContinuousClock.now - started
        let row = try await queue.store.execute(
            "SELECT last_error, delivered_at IS NOT NULL AS delivered FROM webhook_deliveries WHERE run_id = $1",
            [.text(run)])
        return (try row.string(0, "last_error"), try row.bool(0, "delivered") == true, receiver.received, took)
    }

    /// A redirect is the receiver's answer, not a way to somewhere else: following it sent the signed headers
    /// without the body to wherever the receiver pointed, and counted that as delivered.
    @Test func aRedirectIsAFailedTryNotADelivery() async throws {
        let elsewhere = try HookReceiver(port: 0)
        defer { elsewhere.stop() }
        let tried = try await triedOnce(answering: .redirect(location: "http://127.0.0.1:\(elsewhere.port)/elsewhere"))
        #expect(tried.error == "HTTP 302" && !tried.delivered)
        #expect(tried.received.map(\.path) == ["/hook"])
        #expect(elsewhere.received.isEmpty, "the redirect was followed")
    }

    /// A receiver that answers a byte at a time is never idle, so a request's timeout never fired: one held every
    /// delivery of the daemon for as long as it liked. The try's time is a deadline.
    @Test func aReceiverThatTricklesItsAnswerMeetsTheTrysDeadline() async throws {
        let tried = try await triedOnce(answering: .trickle, trySeconds: 2.5)
        #expect(tried.error == "no answer within 2 s" && !tried.delivered)
        // The receiver would take 1,000 s (a byte a second); the bound is loose for a loaded machine, where the
        // deadline's timer can wake late.
        #expect(tried.took < .seconds(120), "\(tried.took)")
    }

    /// A try cut by the daemon's own shutdown (the sender's task cancelled) was one of the 15 tries, and its row
    /// was held for a try's length: it is given back, and the delivery is due again at once.
    @Test func aTryCutByShutdownIsGivenBack() async throws {
        var settings = TestDatabase.settings()
        // A deadline of 48 s: a try that ran to it would record "no answer within 48 s".
        settings.hookRetry = HookRetryPolicy(
            firstDelaySeconds: 60, maximumDelaySeconds: 60, maximumAttempts: 3, trySeconds: 60)
        let queue = try await TestDatabase.queue(settings)
        let receiver = try HookReceiver(port: 0, answer: .trickle)
        defer { receiver.stop() }
        _ = try await HookRegistry(queue: queue).add(
            HookRequest(
                url: "http://127.0.0.1:\(receiver.port)/hook", triggers: [.cancelled], format: .json, secret: nil))
        let run = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "t.yaml")).run.id
        _ = try await queue.cancel(run)
        let sending = Task { try await HookSender(queue: queue, outbox: WakeSignal()).sendDue() }
        let arrival = ContinuousClock.now + .seconds(30)
        while receiver.received.isEmpty && ContinuousClock.now < arrival {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(receiver.received.count == 1, "the try never reached the receiver")
        sending.cancel()
        #expect(try await sending.value == 1)
        let row = try await queue.store.execute(
            """
            SELECT attempts, last_error, delivered_at IS NULL AND abandoned_at IS NULL AS pending,
                next_attempt_at <= now() AS due
            FROM webhook_deliveries WHERE run_id = $1
            """, [.text(run)])
        #expect(try row.int(0, "attempts") == 0 && row.string(0, "last_error") == nil)
        #expect(try row.bool(0, "pending") == true && row.bool(0, "due") == true)
    }

    /// A try whose caller was cancelled before it began (the daemon shutting down as it took the delivery) is cut,
    /// not counted as a receiver's failure; one that began is answered.
    @Test func aTryCancelledBeforeItBeginsIsCut() async throws {
        let receiver = try HookReceiver(port: 0)
        defer { receiver.stop() }
        let sender = HookSender(queue: try await TestDatabase.queue(), outbox: WakeSignal())
        let delivery = Self.delivery(to: "http://127.0.0.1:\(receiver.port)/hook")
        #expect(await sender.post(delivery) == .answered(error: nil))
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await sender.post(delivery)
        }
        let ended = await cancelledFirst.value
        #expect(ended == .cut, "\(ended)")
        #expect(receiver.received.count == 1, "the cancelled try was sent")
    }

    /// A refused connection is a failed try that says it could not connect (how soon: `OutboundClientTests`).
    @Test func aRefusedConnectionIsAFailedTry() async throws {
        let sender = HookSender(queue: try await TestDatabase.queue(), outbox: WakeSignal())
        // Port 1: nothing listens, the connection is refused.
        let delivery = Self.delivery(to: "http://ann:hunter2@127.0.0.1:1/hook")
        let ended = await sender.post(delivery)
        guard case .answered(let error?) = ended else {
            Issue.record("a refused connection ended the try as \(ended)")
            return
        }
        // The failure is listed by `hooks list`, which hides a password in the URL: so does the failure.
        #expect(error.contains("could not connect to http://ann:***@127.0.0.1:1/hook"), "\(error)")
        #expect(!error.contains("hunter2"), "\(error)")
    }

    /// A hook's URL may carry the receiver's credentials (`hooks list` hides the password): they go as its Basic
    /// authorization, as URLSession sent them; AsyncHTTPClient alone sent none, and such receivers answered 401.
    @Test func aHooksURLCredentialsAreItsBasicAuthorization() async throws {
        let receiver = try HookReceiver(port: 0)
        defer { receiver.stop() }
        let sender = HookSender(queue: try await TestDatabase.queue(), outbox: WakeSignal())
        let delivery = Self.delivery(to: "http://ann:p%40ss@127.0.0.1:\(receiver.port)/hook")
        #expect(await sender.post(delivery) == .answered(error: nil))
        let received = try #require(receiver.received.first)
        #expect(received.headers["authorization"] == "Basic " + Data("ann:p@ss".utf8).base64EncodedString())
        #expect(received.path == "/hook")
    }

    /// A try goes through the proxy the environment names (`http_proxy` and the rest, as URLSession, which e2hd
    /// used before AsyncHTTPClient, read them), and a proxy variable that names none fails the try with its reason.
    @Test func aTryGoesThroughTheProxyTheEnvironmentNames() async throws {
        let proxy = try HookReceiver(port: 0, answer: .tunnel)
        defer { proxy.stop() }
        let queue = try await TestDatabase.queue()
        let proxied = HookSender(
            queue: queue, outbox: WakeSignal(),
            proxies: .success(try ProxyEnvironment(["http_proxy": "http://127.0.0.1:\(proxy.port)"])))
        let delivery = Self.delivery(to: "http://receiver.invalid/hook")
        #expect(await proxied.post(delivery) == .answered(error: nil))
        // AsyncHTTPClient asks a proxy for a tunnel (CONNECT), then sends the try through it.
        #expect(proxy.received.map { "\($0.method) \($0.path)" } == ["CONNECT receiver.invalid:80", "POST /hook"])
        #expect(proxy.received.last?.headers["x-e2h-delivery"] == "1")

        let unusable = OutboundError(.badProxy, "https_proxy=socks5://gate is not a proxy e2h can use")
        let refused = HookSender(queue: queue, outbox: WakeSignal(), proxies: .failure(unusable))
        #expect(await refused.post(delivery) == .answered(error: unusable.message))
        #expect(proxy.received.count == 2)
    }

    @Test func aFailedDeliveryIsRetriedAfterItsBackoffThenAbandoned() async throws {
        var settings = TestDatabase.settings()
        settings.hookRetry = HookRetryPolicy(firstDelaySeconds: 60, maximumDelaySeconds: 60, maximumAttempts: 2)
        let queue = try await TestDatabase.queue(settings)
        let registry = HookRegistry(queue: queue)
        // Port 1: nothing listens, the connection is refused at once.
        let hook = try await registry.add(
            HookRequest(url: "http://127.0.0.1:1/", triggers: [.cancelled], format: .json, secret: nil))
        let run = try await queue.submit(SubmitRequest(yaml: Self.spec, file: "t.yaml")).run.id
        _ = try await queue.cancel(run)
        let sender = HookSender(queue: queue, outbox: WakeSignal())

        // The retry is due 60 s after its failure was recorded, which lies between here and the query below; on a
        // loaded machine that can be seconds, so the wait is bounded by what this test measured, not by a guess.
        let beforeTry = ContinuousClock.now
        #expect(try await sender.sendDue() == 1)
        let afterFirst = try await queue.store.execute(
            """
            SELECT attempts, last_error, delivered_at IS NULL AS undelivered,
                extract(epoch FROM next_attempt_at - now())::float8 AS wait
            FROM webhook_deliveries WHERE run_id = $1
            """, [.text(run)])
        #expect(try afterFirst.int(0, "attempts") == 1 && afterFirst.bool(0, "undelivered") == true)
        #expect(try afterFirst.string(0, "last_error") != nil)
        let wait = try #require(try afterFirst.double(0, "wait"))
        let elapsed = ContinuousClock.now - beforeTry
        #expect(.seconds(wait) >= .seconds(59.5) - elapsed && wait <= 60, "the retry waits its backoff")
        // Not due yet: nothing is taken.
        #expect(try await sender.sendDue() == 0)

        try await queue.store.execute("UPDATE webhook_deliveries SET next_attempt_at = now()")
        #expect(try await sender.sendDue() == 1)
        let listed = try #require(try await registry.list().first { $0.id == hook.hook.id })
        #expect(listed.abandoned == 1 && listed.pending == 0 && listed.delivered == 0 && listed.lastError != nil)
        try await queue.store.execute("UPDATE webhook_deliveries SET next_attempt_at = now()")
        #expect(try await sender.sendDue() == 0, "an abandoned delivery is not tried again")
    }
}
