import Foundation

/// One page kept open in headless Chromium and read while it changes, over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands on the browser's fd 3, replies on its fd 4, each a JSON text ended by NUL).
/// `Browser.dom` serializes a document once it loaded, and with virtual time only once its requests ended; a page
/// whose script keeps an event stream open for ever (the runs list) needs to be read in real time instead.
/// The browser uses the profile of `browser`, so its cookies (a session) come along; `browser` must not start
/// another Chromium on that profile while this page is open.
final class DevToolsPage: @unchecked Sendable {
    private let pid: pid_t
    /// Ours: the write end of the browser's fd 3, and the read end of its fd 4.
    private let commands: Int32
    private let replies: Int32
    private var received: [UInt8] = []
    private var nextID = 0
    private var session = ""

    init(_ browser: Browser, url: String) async throws {
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw E2EError("cannot create pipes") }
        // The moves onto fds 3 and 4 below must not overwrite each other's source.
        guard (toBrowser + fromBrowser).allSatisfy({ $0 > 4 }) else {
            throw E2EError("the pipes took fds 3 or 4; the DevTools pipe needs them")
        }
        // No other child of the tests inherits them: only the browser's copies on 3 and 4 keep the pipes open.
        for descriptor in toBrowser + fromBrowser { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        let arguments = [
            Browser.executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=\(browser.profile)", "--remote-debugging-pipe", "about:blank",
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, Browser.executable, &actions, nil, argv, envp)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard result == 0 else {
            close(toBrowser[1])
            close(fromBrowser[0])
            throw E2EError("cannot start \(Browser.executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        commands = toBrowser[1]
        replies = fromBrowser[0]
        let target = try await call("Target.createTarget", ["url": url])["targetId"] as? String
        guard let target else { throw E2EError("chromium created no page for \(url)") }
        let attached = try await call("Target.attachToTarget", ["targetId": target, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw E2EError("chromium attached no session") }
        self.session = session
    }

    /// The value of `expression` in the page, which must evaluate to a string.
    func evaluate(_ expression: String) async throws -> String {
        let reply = try await call(
            "Runtime.evaluate", ["expression": expression, "returnByValue": true], session: session)
        guard let result = reply["result"] as? [String: Any], let value = result["value"] as? String else {
            throw E2EError("\(expression) did not evaluate to a string: \(reply)")
        }
        return value
    }

    /// The page's document as it is now; "" while the page is still being navigated to (it has none yet).
    func document() async throws -> String {
        try await evaluate("document.documentElement ? document.documentElement.outerHTML : \"\"")
    }

    /// Reads the document every quarter second until `condition` holds on it; nil if it did not within `timeout`.
    func document(within timeout: Duration, where condition: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let document = try await document()
            if condition(document) { return document }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Closes the browser, and kills it if it does not exit within a few seconds.
    func quit() async {
        _ = try? await call("Browser.close", [:])
        let deadline = ContinuousClock.now + .seconds(5)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) != pid {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        close(commands)
        close(replies)
    }

    /// Sends one command and returns its reply's `result`; events and other replies read meanwhile are dropped.
    private func call(
        _ method: String, _ parameters: [String: Any], session: String? = nil
    ) async throws -> [String: Any] {
        nextID += 1
        let id = nextID
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        guard bytes.withUnsafeBytes({ write(commands, $0.baseAddress, $0.count) }) == bytes.count else {
            throw E2EError("cannot send \(method) to chromium")
        }
        while true {
            while let end = received.firstIndex(of: 0) {
                let text = Data(received[..<end])
                received.removeSubrange(...end)
                guard let reply = try JSONSerialization.jsonObject(with: text) as? [String: Any],
                    reply["id"] as? Int == id
                else { continue }
                if let error = reply["error"] { throw E2EError("chromium refused \(method): \(error)") }
                return reply["result"] as? [String: Any] ?? [:]
            }
            received += try await Self.nextBytes(replies)
        }
    }

    /// The next bytes the browser wrote, read off the cooperative pool (a read blocks).
    private static func nextBytes(_ descriptor: Int32) async throws -> [UInt8] {
        let bytes: [UInt8] = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                continuation.resume(returning: Array(buffer.prefix(max(count, 0))))
            }
        }
        guard !bytes.isEmpty else { throw E2EError("chromium closed its DevTools pipe") }
        return bytes
    }
}
