/// What this binary is: e2h's version (the VERSION file) and the commit it was built from, stamped by
/// scripts/build-stamp at build time (see Plugins/BuildStampPlugin), and the Swift compiler that built it.
public enum BuildStamp {
    public static let version = BuildStampGenerated.version
    /// A git commit, with "-dirty" when the tree had uncommitted changes; "unknown" for a copy that carries none.
    public static let commit = BuildStampGenerated.commit
    /// The compiler's own answer (`#if compiler`), to the minor version: a plugin's build step cannot be relied on to
    /// find the toolchain that runs it.
    public static let swift: String = {
        #if compiler(>=6.5)
        return "Swift 6.5 or later"
        #elseif compiler(>=6.4)
        return "Swift 6.4"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #else
        return "Swift 6.2"
        #endif
    }()
}
