import Foundation
import RunBundle

/// The one error type of e2hd. `code` maps to an HTTP status and is what clients switch on.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let rawValue: String
        let httpStatus: Int

        static let configuration = Code(rawValue: "configuration", httpStatus: 500)
        static let embeddedDatabase = Code(rawValue: "embedded_database", httpStatus: 500)
        static let badRequest = Code(rawValue: "bad_request", httpStatus: 400)
        static let invalidSpec = Code(rawValue: "invalid_spec", httpStatus: 400)
        static let unauthorized = Code(rawValue: "unauthorized", httpStatus: 401)
        static let notFound = Code(rawValue: "not_found", httpStatus: 404)
        static let conflict = Code(rawValue: "conflict", httpStatus: 409)
        static let bodyTooLarge = Code(rawValue: "body_too_large", httpStatus: 413)
        static let leaseLost = Code(rawValue: "lease_lost", httpStatus: 409)
        static let database = Code(rawValue: "database", httpStatus: 503)
        static let internalError = Code(rawValue: "internal", httpStatus: 500)

        var description: String { rawValue }
    }

    var code: Code
    var message: String
    /// Spec validation errors, "file:line:column: keyPath: message" each.
    var diagnostics: [String] = []
    var cause: (any Error)?

    init(_ code: Code, _ message: String, diagnostics: [String] = [], cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
        self.cause = cause
    }

    /// A bundle's problem as e2hd answers it: a malformed bundle is the client's (400), one that cannot be written
    /// is the daemon's (500).
    init(_ error: BundleError) {
        self.init(error.code == .malformed ? .badRequest : .internalError, error.message, cause: error.cause)
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}
