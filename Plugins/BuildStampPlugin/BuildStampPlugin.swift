import Foundation
import PackagePlugin

/// Stamps the build with the commit it was built from: scripts/build-stamp writes the BuildStamp module's generated
/// constants (the commit from git, or from the tarball's export-substituted BUILD-COMMIT, or from $E2H_COMMIT).
///
/// A build command, rerun whenever one of its inputs changes: the files git moves on every commit, checkout or
/// reset (HEAD, its reflog, the index, the refs), the VERSION file, and every source file of the package, so that
/// "-dirty" follows an edit too. Only the stamp's own module recompiles, and only when the stamp changed.
@main
struct BuildStampPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildStampGenerated.swift")
        let sources = context.package.targets.compactMap { $0 as? SourceModuleTarget }
            .flatMap { $0.sourceFiles.map(\.url) }
        let inputs = Self.gitFiles(package) + [package.appending(path: "VERSION")] + sources
        return [
            .buildCommand(
                displayName: "Stamping the build with its commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [package.appending(path: "scripts/build-stamp").path, package.path, output.path],
                inputFiles: inputs.filter { FileManager.default.fileExists(atPath: $0.path) },
                outputFiles: [output])
        ]
    }

    /// The files of the package's own repository that change when HEAD or the index does. `.git` is a directory in
    /// a clone and a file naming the git directory in a worktree; a tarball has neither.
    static func gitFiles(_ package: URL) -> [URL] {
        let dotGit = package.appending(path: ".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return [] }
        var gitDirectory = dotGit
        if !isDirectory.boolValue {
            guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else {
                return []
            }
            let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDirectory = path.hasPrefix("/") ? URL(fileURLWithPath: path) : package.appending(path: path)
        }
        var common = gitDirectory
        if let text = try? String(contentsOf: gitDirectory.appending(path: "commondir"), encoding: .utf8) {
            let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
            common = path.hasPrefix("/") ? URL(fileURLWithPath: path) : gitDirectory.appending(path: path)
        }
        var files = ["HEAD", "logs/HEAD", "index"].map { gitDirectory.appending(path: $0) }
        files.append(common.appending(path: "packed-refs"))
        if let head = try? String(contentsOf: gitDirectory.appending(path: "HEAD"), encoding: .utf8),
            head.hasPrefix("ref:")
        {
            let ref = head.dropFirst("ref:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            files.append(common.appending(path: ref))
        }
        return files
    }
}
