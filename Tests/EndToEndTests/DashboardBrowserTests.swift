import Dashboard
import Foundation
import Testing
import WireTypes

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The dashboard in a real browser, served by a real e2hd over a real database: sign-in, pages without a
/// session, the run, group and compare pages' charts, screenshots, CSRF and escaping.
@Suite("Dashboard in a browser", .serialized)
struct DashboardBrowserTests {
    /// Run names are validated (letters, digits, '-', '_', '.'), so the user text that tries to become markup is
    /// the spec's: a comment, shown verbatim on the run page.
    static let hostileText = "<script>alert(1)</script>"

    /// The smoke spec with a comment that tries to become markup.
    static func writeHostileSpec(for daemon: DaemonUnderTest) throws -> String {
        let smoke = try String(contentsOfFile: SmokeRunTests.smokeSpec, encoding: .utf8)
        let path = (daemon.stateDirectory as NSString).deletingLastPathComponent + "/hostile.yaml"
        try ("# \(hostileText)\n" + smoke).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The link e2hd printed when it started.
    static func printedSignInLink(_ log: String) throws -> String {
        guard let marker = log.range(of: "dashboard sign-in (one-time, 1 h): ") else {
            throw E2EError("e2hd printed no sign-in link:\n\(log.suffix(3000))")
        }
        return String(log[marker.upperBound...].prefix { !$0.isWhitespace })
    }

    @Test func signInChartsScreenshotsAndSafety() async throws {
        // One worker: the followed run waits behind a long one, so its page is open before it starts.
        let daemon = try await SmokeRunTests.daemon(arguments: DaemonUnderTest.fastLeases + ["--workers", "1"])
        try await daemon.start()
        let scratch = (daemon.stateDirectory as NSString).deletingLastPathComponent
        try await withDaemons([daemon]) {
            // Signing in with the printed link lands on the runs list.
            let browser = try Browser(profile: scratch + "/browser")
            let link = try Self.printedSignInLink(daemon.log)
            #expect(try await browser.dom(link).contains("No runs match"))

            // A long run holds the one worker; the run to follow queues behind it.
            let live = try await daemon.e2hJSON(
                SubmitResponse.self, "submit", try SmokeRunTests.writeLongSFTSpec(for: daemon)
            ).run.id
            try await daemon.waitFor(live, "running") { details, _ in details.state == .running }
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", try Self.writeHostileSpec(for: daemon))
                .run.id
            // A live run's page shows each event as it commits: followed from queued to completed, while the
            // long run is cancelled from its page (which lets the followed run start).
            async let followedPage = browser.dom(daemon.url + "/runs/" + run, following: true)
            try await Task.sleep(for: .seconds(6))

            // Actions need a session and its CSRF token.
            let cookie = try await DashboardHTTP.signIn(daemon)
            let cancel = "/runs/\(live)/cancel"
            #expect(try await DashboardHTTP.post(daemon, cancel, form: "", cookie: nil).status == 401)
            #expect(try await DashboardHTTP.post(daemon, cancel, form: "", cookie: cookie).status == 403)
            #expect(
                try await DashboardHTTP.post(
                    daemon, cancel, form: "csrf=" + String(repeating: "0", count: 64), cookie: cookie
                ).status == 403)
            #expect(try await daemon.details(live).cancelRequested == false)
            let livePage = try await DashboardHTTP.get(daemon, "/runs/\(live)", cookie: cookie)
            let token = try #require(
                StartTags(livePage.body).all("input").first { $0.attributes["name"] == "csrf" }?.attributes["value"])
            let accepted = try await DashboardHTTP.post(daemon, cancel, form: "csrf=" + token, cookie: cookie)
            #expect(accepted.status == 303)
            try await daemon.waitFor(live, "cancellation") { details, _ in details.state == .cancelled }

            let followed = StartTags(try await followedPage)
            #expect(try await daemon.details(run).state == .completed, "\(daemon.log.suffix(3000))")
            let opened = try #require(
                followed.all("section").first { $0.attributes["id"] == "live" }?.attributes["data-opened"]
                    .flatMap { Int64($0) })
            let arrivals = followed.all("tr").filter { $0.classes.contains("live-event") }.compactMap { row in
                row.attributes["data-recorded"].flatMap { Int64($0) }.flatMap { recorded in
                    row.attributes["data-received"].flatMap { Int64($0) }.map { (recorded, $0) }
                }
            }
            let afterOpening = arrivals.filter { $0.0 >= opened }
            #expect(afterOpening.count >= 10, "\(arrivals.count) events arrived, \(afterOpening.count) after opening")
            for (recorded, received) in afterOpening {
                #expect(received - recorded <= 2000, "an event committed at \(recorded) arrived at \(received)")
            }

            // The runs list, kept open: the completed run shows its headline, and runs submitted meanwhile appear
            // within a few seconds, without a reload.
            let headline = try #require(try await daemon.details(run).headline, "the completed run has no headline")
            #expect(headline.row == "majority@4" && headline.accuracy.problems == 12, "\(headline)")
            let runsList = try await DevToolsPage(browser, url: daemon.url + "/")
            let listed = try await runsList.document(within: .seconds(30)) { $0.contains("data-opened=") }
            let completedRow = listed.flatMap { Self.row(of: run, in: $0) } ?? ""
            #expect(
                completedRow.contains("class=\"headline\"") && completedRow.contains(" % [")
                    && completedRow.contains(">\(headline.row)<"), "\(completedRow)")
            let group = try await daemon.e2hJSON(
                GroupSubmitResponse.self, "submit", SmokeRunTests.smokeSpec, "--seeds", "3..4"
            ).group
            let submitted = ContinuousClock.now
            let appeared = try await runsList.document(within: .seconds(15)) { document in
                group.members.allSatisfy { document.contains("data-run=\"\($0.run.id)\"") }
            }
            let delay = ContinuousClock.now - submitted
            await runsList.quit()
            #expect(appeared != nil, "the runs submitted after the page opened never appeared in it")
            #expect(delay <= .seconds(5), "the runs submitted after the page opened took \(delay) to appear")
            for id in group.members.map(\.run.id) {
                try await daemon.waitFor(id, timeout: .seconds(900), "completion") { details, _ in
                    details.state.isFinal
                }
                #expect(try await daemon.details(id).state == .completed)
            }
            let runURL = daemon.url + "/runs/" + run
            let groupURL = daemon.url + "/groups/" + group.summary.id
            let compareURL = daemon.url + "/compare?runs=" + group.members.map(\.run.id).joined(separator: ",")

            // No session: the sign-in request and nothing of the run.
            let stranger = try Browser(profile: scratch + "/stranger")
            for url in [daemon.url + "/", runURL, groupURL] {
                let page = try await stranger.dom(url)
                #expect(page.contains("class=\"sign-in\""), "\(page)")
                #expect(!page.contains("<svg") && !page.contains("<table") && !page.contains(run), "\(page)")
            }

            let runs = try await browser.dom(daemon.url + "/")
            #expect(runs.contains("data-run=\"\(run)\""), "\(runs)")
            // The link works once.
            let reused = try await stranger.dom(link)
            #expect(reused.contains("used already") && !reused.contains("data-run"), "\(reused)")

            // The run page: its name as text, its figures with axes, one line per series, a legend entry for each.
            let runPage = try await browser.dom(runURL)
            let runTags = StartTags(runPage)
            #expect(runPage.contains("# &lt;script&gt;alert(1)&lt;/script&gt;\n"), "\(runPage.prefix(3000))")
            #expect(runTags.all("script").isEmpty)
            #expect(runPage.contains("Hash chain intact"))
            Self.checkCharts(runTags.charts, count: 2, page: "run")

            for url in [groupURL, compareURL] {
                let page = try await browser.dom(url)
                Self.checkCharts(StartTags(page).charts, count: 2, page: url)
                #expect(page.contains("t interval across seeds"), "\(page.suffix(3000))")
            }

            // `e2h plot` writes the same figures as files: valid SVG with axes and one line per series.
            for (index, target) in [
                (run, "curves"), (run, "accuracy-vs-n"), (group.summary.id, "curves"),
                ("group:" + group.summary.id, "accuracy-vs-n"),
            ].enumerated() {
                let file = scratch + "/plot-\(index).svg"
                let plotted = try await daemon.e2h("plot", target.0, "--what", target.1, "-o", file)
                #expect(plotted.status == 0, "\(plotted.output)")
                let elements = try SVGElements(contentsOf: file)
                #expect(elements.first?.name == "svg")
                #expect(elements.filter { $0.name == "g" && $0.classes.contains("axis") }.count >= 2)
                let series = elements.filter { $0.name == "path" && $0.classes == ["series"] }
                #expect(!series.isEmpty, "\(target) drew no series")
                let legend = elements.filter { $0.classes.contains("legend-entry") }.compactMap {
                    $0.attributes["data-series"]
                }
                #expect(Set(legend) == Set(series.compactMap { $0.attributes["data-series"] }), "\(target)")
            }
            // `-o -`: the figure alone on standard output, and no file named "-".
            let piped = try await daemon.e2h("plot", run, "-o", "-")
            #expect(piped.status == 0 && piped.output.hasPrefix("<svg") && piped.output.hasSuffix("</svg>\n"))
            #expect(!FileManager.default.fileExists(atPath: "-"))
            let unknown = try await daemon.e2h("plot", run, "--what", "loss", "-o", scratch + "/x.svg")
            #expect(unknown.status == 2 && unknown.output.contains("accuracy-vs-n"), "\(unknown.output)")
            #expect(!FileManager.default.fileExists(atPath: scratch + "/x.svg"))

            // Screenshots: each page's picture holds far more than a blank page of the same size compresses to.
            let blank = try await browser.screenshot("about:blank", to: scratch + "/blank.png")
            for (name, url) in [("runs", daemon.url + "/"), ("run", runURL), ("group", groupURL)] {
                let size = try await browser.screenshot(url, to: scratch + "/\(name).png")
                #expect(size > 4 * blank, "\(name) page screenshot is \(size) bytes, blank is \(blank)")
            }

            // Sign-out needs the session's token, like every form; then the cookie opens nothing, and the page
            // and its header's button work in the browser too.
            let signOut = ActionForm.signOutPath
            #expect(try await DashboardHTTP.post(daemon, signOut, form: "", cookie: cookie).status == 403)
            #expect(try await DashboardHTTP.get(daemon, "/", cookie: cookie).status == 200)
            let signedOut = try await DashboardHTTP.send(
                "POST", daemon.url + signOut, body: "csrf=" + token, cookie: cookie)
            #expect(signedOut.status == 200 && signedOut.body.contains("signed out"), "\(signedOut.body)")
            #expect(signedOut.headers["set-cookie"]?.contains("Max-Age=0") == true, "\(signedOut.headers)")
            for path in ["/", "/runs/\(run)"] {
                let page = try await DashboardHTTP.get(daemon, path, cookie: cookie)
                #expect(page.status == 401 && !page.body.contains(run), "\(path): \(page.status)")
            }
            let header = try await DevToolsPage(browser, url: daemon.url + "/")
            let withButton = try await header.document(within: .seconds(30)) { $0.contains("class=\"sign-out\"") }
            #expect(withButton != nil, "the runs page has no sign-out button")
            _ = try await header.evaluate(
                "document.querySelector('form.sign-out button').click(), 'clicked'")
            let afterClick = try await header.document(within: .seconds(30)) {
                $0.contains("This browser is signed out")
            }
            await header.quit()
            #expect(afterClick != nil, "the sign-out button did not sign out")
            let afterSignOut = try await browser.dom(runURL)
            #expect(afterSignOut.contains("class=\"sign-in\"") && !afterSignOut.contains("<table"), "\(afterSignOut)")
        }
    }

    /// The `<tr>` of `run` in a runs list's document, from its start tag to its end tag.
    static func row(of run: String, in document: String) -> String? {
        guard let start = document.range(of: "<tr data-run=\"\(run)\""),
            let end = document.range(of: "</tr>", range: start.upperBound..<document.endIndex)
        else { return nil }
        return String(document[start.lowerBound..<end.upperBound])
    }

    /// `count` charts, each with panels that have both axes, one line per series (no label twice in a panel),
    /// and a legend entry for every series shown.
    static func checkCharts(_ charts: [StartTags.Chart], count: Int, page: String) {
        #expect(charts.count == count, "\(page): \(charts.count) charts")
        for chart in charts {
            #expect(!chart.panels.isEmpty, "\(page): a chart without panels")
            for panel in chart.panels {
                #expect(panel.axes.contains("axis x") && panel.axes.contains("axis y"), "\(page): \(panel.axes)")
                #expect(
                    !panel.series.isEmpty && Set(panel.series).count == panel.series.count, "\(page): \(panel.series)")
            }
            let shown = Set(chart.panels.flatMap(\.series))
            #expect(Set(chart.legend) == shown && chart.legend.count == shown.count, "\(page): legend \(chart.legend)")
        }
    }
}

/// The dashboard over plain HTTP, for what a browser would not do: forms without their token, sessions read
/// from the Set-Cookie header.
enum DashboardHTTP {
    /// Does not follow redirects, so a 303 and its Set-Cookie are seen as they are.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }

    static func send(
        _ method: String, _ url: String, body: String?, cookie: String?
    ) async throws -> (status: Int, body: String, headers: [String: String]) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        let session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] { headers["\(key)".lowercased()] = "\(value)" }
        return (http?.statusCode ?? 0, String(decoding: data, as: UTF8.self), headers)
    }

    static func get(
        _ daemon: DaemonUnderTest, _ path: String, cookie: String?
    ) async throws -> (status: Int, body: String) {
        let response = try await send("GET", daemon.url + path, body: nil, cookie: cookie)
        return (response.status, response.body)
    }

    static func post(
        _ daemon: DaemonUnderTest, _ path: String, form: String, cookie: String?
    ) async throws -> (status: Int, body: String) {
        let response = try await send("POST", daemon.url + path, body: form, cookie: cookie)
        return (response.status, response.body)
    }

    /// A new link from the API, exchanged for a session; returns the Cookie header to send.
    static func signIn(_ daemon: DaemonUnderTest) async throws -> String {
        let minted = try await daemon.request(
            "POST", "/v1/dashboard/sign-in-links", body: Data("{}".utf8), token: try daemon.token)
        let link = try StateDirectory.jsonDecoder.decode(SignInLinkResponse.self, from: minted.body)
        let response = try await send("GET", daemon.url + link.path, body: nil, cookie: nil)
        guard response.status == 303, let setCookie = response.headers["set-cookie"] else {
            throw E2EError("signing in answered \(response.status) \(response.headers): \(response.body)")
        }
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
        return String(setCookie.prefix { $0 != ";" })
    }
}

/// An SVG file parsed as XML (so a file that is not well-formed fails), as its elements in document order.
struct SVGElements {
    struct Element {
        var name: String
        var attributes: [String: String]
        var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
    }

    private let elements: [Element]

    init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw E2EError("no file \(path)") }
        let collector = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        guard parser.parse() else {
            throw E2EError("\(path) is not well-formed XML: \(String(describing: parser.parserError))")
        }
        elements = collector.elements
    }

    var first: Element? { elements.first }

    func filter(_ isIncluded: (Element) -> Bool) -> [Element] { elements.filter(isIncluded) }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            elements.append(Element(name: elementName, attributes: attributes))
        }
    }
}
