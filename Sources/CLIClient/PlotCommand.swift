import ArgumentParser
import Charts
import Dashboard
import Foundation
import WireTypes

/// `e2h plot RUN|GROUP --what curves|accuracy-vs-n -o FILE.svg`: the dashboard's figures as standalone SVG
/// files, drawn by the same renderer from the same API answers.
struct Plot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's or a group's training curves or accuracy against N as an SVG file.")

    enum What: String, ExpressibleByArgument, CaseIterable {
        case curves
        case accuracyVersusN = "accuracy-vs-n"
    }

    @Argument(help: ArgumentHelp(stringLiteral: RunOrGroup.help)) var run: String
    @Option(help: "curves (training curves) or accuracy-vs-n (with 95 % interval bands).") var what: What = .curves
    @Option(name: .shortAndLong, help: "The SVG file to write; - for standard output.") var output: String
    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        try await E2H.guarded {
            let client = try connection.client()
            let (runs, group, leftOut) = try await RunOrGroup.completedRuns(run, client: client)
            if let leftOut { FileHandle.standardError.write(Data("note: \(leftOut)\n".utf8)) }
            let figure: Figure
            switch what {
            case .curves:
                var metrics: [RunMetrics] = []
                for id in runs { metrics.append(try await client.get("v1/runs/\(id)/metrics", as: RunMetrics.self)) }
                guard metrics.contains(where: { !$0.series.isEmpty }) else {
                    throw ClientError(.failure, "no training step has been recorded for \(run) yet")
                }
                figure =
                    group.map { RecordFigures.groupTrainingCurves(metrics, group: $0) }
                    ?? RecordFigures.trainingCurves(metrics)
            case .accuracyVersusN:
                let grid = try await client.post(
                    "v1/compare", body: CompareRequest(runs: runs, all: true), as: CompareResponse.self)
                let headline = try await client.post(
                    "v1/compare", body: CompareRequest(runs: runs), as: CompareResponse.self)
                figure = RecordFigures.accuracyVersusN(
                    grid.report, linesOf: headline.report,
                    subtitle: runs.count == 1 ? runs[0] : "mean of \(runs.count) runs")
            }
            let svg = Data(SVGRenderer().render(figure).utf8)
            // `-o -` is the figure alone on standard output, for a pipe (it was a file named "-").
            guard output != "-" else { return try FileHandle.standardOutput.write(contentsOf: svg) }
            try writeUserFileAtomically(svg, to: output)
            print("wrote \(output)")
        }
    }
}

/// `e2h open`: a one-time sign-in link into the dashboard, opened in the default browser when there is one.
struct Open: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the dashboard in a browser through a new one-time sign-in link (valid for an hour).")

    @Flag(help: "Print the link only; do not start a browser.") var print = false
    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        try await E2H.guarded {
            let client = try connection.client()
            let link = try await client.post(
                "v1/dashboard/sign-in-links", body: [String: String](), as: SignInLinkResponse.self)
            let url = client.baseURL.absoluteString.trimmingSuffix("/") + link.path
            Swift.print(url)
            guard !print else { return }
            // A desktop opener, when there is one; a server without a desktop just prints the link.
            let opener = Process()
            opener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            opener.arguments = ["xdg-open", url]
            opener.standardOutput = FileHandle.nullDevice
            opener.standardError = FileHandle.nullDevice
            try? opener.run()
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
