import Foundation

/// Headless Chromium (Debian's `chromium`, which scripts/test installs) with its own profile directory, so
/// the cookies one call receives are sent by the next, as in one browser.
struct Browser {
    static let executable = "/usr/bin/chromium"
    let profile: String

    init(profile: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw E2EError("no \(Self.executable) — run the tests with scripts/test, which installs chromium")
        }
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        self.profile = profile
    }

    /// The document after load (and after any redirect), serialized by the browser. `following`: only once every
    /// request the page made has ended — for a live page, once its event stream closed (the run ended) — so the
    /// document holds what the page's script added meanwhile. (Virtual time stands still while a request is
    /// open, and the budget is spent only after.)
    func dom(_ url: String, following: Bool = false) async throws -> String {
        let output = try await run((following ? ["--virtual-time-budget=10000"] : []) + ["--dump-dom", url])
        guard let start = output.range(of: "<html"), let end = output.range(of: "</html>", options: .backwards) else {
            throw E2EError("chromium printed no document for \(url):\n\(output.suffix(2000))")
        }
        return String(output[start.lowerBound..<end.upperBound])
    }

    /// A PNG of the page's first `height` pixels at 1200 wide; returns its size in bytes.
    func screenshot(_ url: String, to path: String, height: Int = 1600) async throws -> Int {
        _ = try await run(["--screenshot=\(path)", "--window-size=1200,\(height)", "--hide-scrollbars", url])
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attributes[.size] as? Int
        else { throw E2EError("chromium wrote no screenshot of \(url)") }
        return size
    }

    private func run(_ arguments: [String]) async throws -> String {
        // No sandbox: the tests run as root in containers, where Chromium's sandbox cannot start.
        let result = try await ChildProcess.run(
            Self.executable,
            ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"]
                + arguments)
        guard result.status == 0 else {
            throw E2EError("chromium \(arguments) exited \(result.status): \(result.output)")
        }
        return result.output
    }
}

/// The start tags of a serialized document, in order, with their attributes: enough to check a page's charts
/// (which panel holds which series) without a DOM library.
struct StartTags {
    struct Tag {
        var name: String
        var attributes: [String: String]

        var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
    }

    let tags: [Tag]

    init(_ document: String) {
        let tagPattern = try! NSRegularExpression(
            pattern: #"<([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*/?>"#)
        let attributePattern = try! NSRegularExpression(pattern: #"([^\s=>/]+)(?:="([^"]*)")?"#)
        let text = document as NSString
        tags = tagPattern.matches(in: document, range: NSRange(location: 0, length: text.length)).map { match in
            let attributesText = text.substring(with: match.range(at: 2))
            var attributes: [String: String] = [:]
            for attribute in attributePattern.matches(
                in: attributesText, range: NSRange(location: 0, length: (attributesText as NSString).length))
            {
                let name = (attributesText as NSString).substring(with: attribute.range(at: 1))
                let value =
                    attribute.range(at: 2).location == NSNotFound
                    ? "" : (attributesText as NSString).substring(with: attribute.range(at: 2))
                attributes[name] =
                    value
                    .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                    .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            }
            return Tag(name: text.substring(with: match.range(at: 1)).lowercased(), attributes: attributes)
        }
    }

    func all(_ name: String) -> [Tag] { tags.filter { $0.name == name } }

    /// What each inline chart draws: per panel, its axes and its series lines; and the legend's entries.
    struct Chart {
        struct Panel {
            var axes: [String] = []
            var series: [String] = []
        }

        var panels: [Panel] = []
        var legend: [String] = []
    }

    var charts: [Chart] {
        var charts: [Chart] = []
        for tag in tags {
            if tag.name == "svg" { charts.append(Chart()) }
            guard !charts.isEmpty else { continue }
            let classes = tag.classes
            if tag.name == "g", classes.contains("panel") { charts[charts.count - 1].panels.append(Chart.Panel()) }
            if tag.name == "g", classes.contains("axis"), !charts[charts.count - 1].panels.isEmpty {
                charts[charts.count - 1].panels[charts[charts.count - 1].panels.count - 1].axes.append(
                    classes.joined(separator: " "))
            }
            if tag.name == "path", classes.contains("series"), !charts[charts.count - 1].panels.isEmpty {
                charts[charts.count - 1].panels[charts[charts.count - 1].panels.count - 1].series.append(
                    tag.attributes["data-series"] ?? "")
            }
            if tag.name == "g", classes.contains("legend-entry") {
                charts[charts.count - 1].legend.append(tag.attributes["data-series"] ?? "")
            }
        }
        return charts
    }
}
