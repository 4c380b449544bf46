import Foundation

/// A psql session of the test's own that opens a transaction, runs `statements` in it and stays there, idle, until
/// released: what a test needs to hold a snapshot or a lock beside the daemons. psql runs its -c commands in order in
/// one session; a `\!` loop keeps it in the transaction until the release file appears, then it commits.
struct HeldTransaction {
    let holder: ChildProcess
    let releaseFile: String

    /// Starts the session under `PGAPPNAME` `name`; its output and release file go beside `scratch` (a path prefix).
    init(_ url: String, name: String, begin: String = "BEGIN", _ statements: [String], scratch: String) throws {
        releaseFile = scratch + ".\(name).release"
        let commands = [begin] + statements + ["\\! while [ ! -e \(releaseFile) ]; do sleep 0.05; done", "COMMIT"]
        holder = try ChildProcess(
            "/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1"] + commands.flatMap { ["-c", $0] },
            outputPath: scratch + ".\(name).log", environment: ["PGAPPNAME": name])
    }

    /// Lets the session commit and end; safe to call more than once, and from a `defer`.
    func letGo() { try? "".write(toFile: releaseFile, atomically: true, encoding: .utf8) }

    /// Lets the session commit and returns psql's exit status, or nil if it is still running after `timeout`.
    func release(timeout: Duration = .seconds(10)) async -> Int32? {
        letGo()
        return await holder.waitForExit(timeout: timeout)
    }
}
