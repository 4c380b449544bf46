import Foundation

/// The one error type of e2h; `exitCode` is the contract scripts rely on: 1 failure, 2 usage or validation,
/// 3 daemon unreachable; and for `follow --exit-status`, 4 the run failed, 5 the run was cancelled.
struct ClientError: Error, CustomStringConvertible {
    struct Code: Hashable, CustomStringConvertible {
        let rawValue: String
        let exitCode: Int32

        static let failure = Code(rawValue: "failure", exitCode: 1)
        static let usage = Code(rawValue: "usage", exitCode: 2)
        static let unreachable = Code(rawValue: "unreachable", exitCode: 3)
        static let runFailed = Code(rawValue: "run failed", exitCode: 4)
        static let runCancelled = Code(rawValue: "run cancelled", exitCode: 5)

        var description: String { rawValue }
    }

    var code: Code
    var message: String
    var cause: (any Error)?

    init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    var description: String { message }
}
