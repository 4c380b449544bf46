import Foundation
import WireTypes

/// Where `follow`'s output goes: event lines, and the progress line, redrawn in place on a terminal (`\r` and
/// erase) and printed as a plain line per change otherwise (a pipe, a file, a CI log). Colour as `E2H_COLOR`
/// says: by default only on a terminal and never with NO_COLOR set (https://no-color.org). The text itself comes from `RunFollower.describe` and
/// `ProgressLine`.
struct FollowDisplay {
    let quiet: Bool
    let terminal: Bool
    let color: Bool
    /// The progress report last shown, and the rate estimated from the reports seen.
    private var shown: RunProgress?
    private var rate = ProgressRate()
    /// A progress line is on the screen without its line break.
    private var lineOpen = false

    init(quiet: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.quiet = quiet
        terminal = isatty(STDOUT_FILENO) == 1
        color = ClientEnvironment(environment).colors(terminal: terminal)
    }

    mutating func show(_ event: WireEvent) {
        guard !quiet, let line = RunFollower.describe(event) else { return }
        let reopen = lineOpen
        closeLine()
        print(line)
        // The progress line stays below the event lines.
        if reopen, let shown { draw(ProgressLine(progress: shown, color: color, estimate: rate)) }
        flush()
    }

    mutating func show(_ run: RunDetails) {
        guard !quiet, run.state == .running, let progress = run.progress, progress != shown else { return }
        rate.observe(progress, at: ProcessInfo.processInfo.systemUptime)
        draw(ProgressLine(progress: progress, color: color, estimate: rate))
        shown = progress
        flush()
    }

    private mutating func draw(_ line: ProgressLine) {
        if terminal {
            print(line.redraw(columns: Self.columns()), terminator: "")
            lineOpen = true
        } else {
            print(line.text)
        }
    }

    /// The run ended: its state, and what next (or why it did not complete).
    mutating func end(_ run: RunDetails) {
        guard !quiet else { return }
        closeLine()
        print("\(run.id) \(run.state.rawValue)")
        if run.state == .completed {
            // A replay job's verdict was its last line; what has scores to compare is the run it replayed.
            print("next: e2h compare \(run.replayOf ?? run.id)")
        } else {
            for error in run.errors { print("  \(error)") }
        }
        flush()
    }

    /// A line about the connection, not the run: to standard error, below any progress line, even with --json.
    mutating func notice(_ text: String) {
        closeLine()
        flush()
        FileHandle.standardError.write(Data("e2h: \(text)\n".utf8))
    }

    private mutating func closeLine() {
        if lineOpen { print(ProgressLine.erase, terminator: "") }
        lineOpen = false
    }

    /// Lines go out as they come even into a pipe or a file (tee, CI logs).
    private func flush() { fflush(nil) }

    /// The terminal's width: as the terminal says, else $COLUMNS, else 80.
    private static func columns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 80
    }
}
