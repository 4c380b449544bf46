import Foundation
import PackagePlugin

/// Stamps the build with the commit it was built from: before every build, scripts/build-stamp writes the
/// BuildStamp module's generated constants (the commit from git, or from the tarball's export-substituted
/// BUILD-COMMIT, or from $E2H_COMMIT). A prebuild command, so a new commit reaches the next build without a clean.
@main
struct BuildStampPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        return [
            .prebuildCommand(
                displayName: "Stamping the build with its commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [package.appending(path: "scripts/build-stamp").path, package.path, output.path],
                outputFilesDirectory: output)
        ]
    }
}
