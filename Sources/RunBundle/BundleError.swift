/// The one error type of `RunBundle`: what is wrong with a bundle (or with writing one), in words a user can act on.
/// e2hd answers `malformed` as a 400 and `unwritable` as a 500 (`DaemonError.init(_:)`).
public struct BundleError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The bytes are not a bundle e2h export wrote, or were altered or cut short: nothing was imported.
        case malformed
        /// The bundle cannot be opened or written (a file-system problem, a name or size ustar cannot hold).
        case unwritable
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}
