import Crypto
import Foundation
import TestSupport
import Testing
import WireTypes

/// A run's end reaches a webhook once, signed, even when the receiver is down at the end and the daemon restarts
/// before it is back: the delivery waits in the outbox written with the run's event.
@Suite("Webhooks end to end")
struct WebhookTests {
    @Test func aRunsEndIsDeliveredOnceSignedAcrossADaemonRestart() async throws {
        let reservation = try HookReceiver.reserve()
        let port = reservation.port
        let scratch = try Harness.scratchDirectory()
        let secretFile = scratch + "/hook-secret"
        let secret = "correct horse battery staple"
        try (secret + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        // No worker: the run stays queued until cancelled, and the cancel is its end.
        let daemon = DaemonUnderTest(
            stateDirectory: scratch + "/state", databaseURL: try await Harness.createDatabase(),
            arguments: DaemonUnderTest.fastLeases + ["--workers", "0"])
        try await daemon.start()
        var receiver: HookReceiver?
        defer { receiver?.stop() }
        try await withDaemons([daemon]) {
            let added = try await daemon.e2hJSON(
                HookCreated.self, "hooks", "add", "http://127.0.0.1:\(port)/hook", "--on", "cancelled,failed",
                "--secret-file", secretFile, "--json")
            #expect(added.secret == secret && added.hook.triggers == [.failed, .cancelled])
            let bad = try await daemon.e2h("hooks", "add", "http://127.0.0.1:\(port)/", "--on", "finished")
            #expect(bad.status == 2, "\(bad.output)")

            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            #expect(try await daemon.e2h("cancel", run).status == 0)
            // The receiver is down: the first try fails and the delivery waits for its retry.
            try await Harness.waitUntil("a failed first try", timeout: .seconds(90)) {
                let hooks = try await daemon.e2hJSON(HookList.self, "hooks", "list", "--json").hooks
                return hooks.first?.lastError != nil && hooks.first?.pending == 1
            }

            await daemon.stop()
            receiver = try HookReceiver(reservation: reservation)
            try await daemon.start()
            try await Harness.waitUntil("the delivery after the restart", timeout: .seconds(90)) {
                receiver?.received.isEmpty == false
            }
            // Retries that were due meanwhile must not repeat a delivery that succeeded.
            try await Task.sleep(for: .seconds(3))
            let received = try #require(receiver?.received)
            #expect(received.count == 1, "\(received.map(\.headers))")
            let delivery = try #require(received.first)
            let mac = HMAC<SHA256>.authenticationCode(
                for: delivery.body, using: SymmetricKey(data: Data(secret.utf8)))
            let expected = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
            #expect(delivery.headers["x-e2h-signature"] == expected)
            #expect(delivery.headers["x-e2h-event"] == "cancelled")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let told = try decoder.decode(HookNotification.self, from: delivery.body)
            #expect(told.run == run && told.trigger == .cancelled && told.state == .cancelled)

            let listed = try await daemon.e2hJSON(HookList.self, "hooks", "list", "--json").hooks
            #expect(listed.map(\.delivered) == [1] && listed.map(\.pending) == [0])
            #expect(try await daemon.e2h("hooks", "remove", added.hook.id).status == 0)
            #expect(try await daemon.e2hJSON(HookList.self, "hooks", "list", "--json").hooks.isEmpty)
        }
    }
}
